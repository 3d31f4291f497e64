#!/bin/sh
# harness-live.sh - certmint test connect against openssl s_server, and
# certmint test serve against a python3 ssl client and test connect.
# Everything listens on 127.0.0.1 only and stops by itself.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl
need timeout

C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 ::1 >/dev/null 2>&1
"$C" issue client alice@example.test >/dev/null 2>&1
"$C" ca show --pem >ca.crt

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE REGEX: up to 5 s
wait_for() {
	_i=0
	while [ $_i -lt 100 ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# s_server PORT: one connection, answering HTTP, gone within 10 s.
s_server() {
	: >"$WORK/s_server.log"
	timeout 10 openssl s_server -accept "127.0.0.1:$1" -naccept 1 -www \
	    -cert localhost.crt -key localhost.key >"$WORK/s_server.log" 2>&1 &
	wait_for "$WORK/s_server.log" ACCEPT
}

P=$(free_port)
s_server "$P"
check "connect: ok for the right name" "$C" test connect "127.0.0.1:$P" \
    --name localhost
grep -q "1 matched" "$WORK/out" && ok "connect reports the match" ||
    not_ok "connect reports the match"
wait

P=$(free_port)
s_server "$P"
"$C" test connect "127.0.0.1:$P" --name www.example.test >"$WORK/out" 2>&1
is "connect: a wrong name exits 1" "$?" "1"
grep -q "hostname *MISMATCH" "$WORK/out" && ok "the wrong name is 'hostname'" ||
    { not_ok "the wrong name is 'hostname'"; diag "$WORK/out"; }
wait

P=$(free_port)
s_server "$P"
check "connect: exit 0 with --expect hostname" "$C" test connect \
    "127.0.0.1:$P" --name www.example.test --expect hostname --format json
cp "$WORK/out" "$WORK/connect.json"
check "connect --format json parses, actual hostname" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["actual"] == "hostname" and s["match"] and s["side"] == "client"
' "$WORK/connect.json"
wait

P=$(free_port)
s_server "$P"
check "connect: --trust FILE and an IP name, --timeout 3s" "$C" test connect \
    "127.0.0.1:$P" --trust ca.crt --timeout 3s
wait

expect_fail 2 "'nowhere' is not HOST:PORT" "connect: bad address" \
    "$C" test connect nowhere
expect_fail 2 "--timeout '5q' is not a time" "connect: a bad --timeout" \
    "$C" test connect 127.0.0.1:1 --timeout 5q
expect_fail 2 "--timeout '11m' is not a time up to 10m" \
    "connect: --timeout over 10m" "$C" test connect 127.0.0.1:1 --timeout 11m
expect_fail 2 "--ca and --trust exclude each other" "connect: --ca and --trust" \
    "$C" test connect 127.0.0.1:1 --ca x --trust y
P=$(free_port)
expect_fail 4 "connect to 127.0.0.1:$P" "connect: nobody listening" \
    "$C" test connect "127.0.0.1:$P"

# serve: a python3 client with and without the issued client certificate,
# then test connect with and without it.
timeout --foreground -k 5 20 "$C" test serve --cert localhost --listen 127.0.0.1:0 \
    --require-client-cert --count 5 >"$WORK/serve.log" 2>&1 &
SERVE=$!
if wait_for "$WORK/serve.log" "^listening on 127\.0\.0\.1:[0-9]+"; then
	ok "serve listens on 127.0.0.1"
else
	not_ok "serve listens on 127.0.0.1"; diag "$WORK/serve.log"
fi
SP=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/serve.log")

pyclient() {
	python3 - "$SP" "$@" <<'PY'
import socket, ssl, sys
port, cert = int(sys.argv[1]), sys.argv[2:]
c = ssl.create_default_context(cafile="ca.crt")
if cert:
    c.load_cert_chain(cert[0], cert[1])
s = socket.create_connection(("127.0.0.1", port), 5)
try:
    t = c.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = t.recv(200)
    print(data.split(b"\r\n")[0].decode())
except ssl.SSLError as e:
    print("rejected", e.reason)
    sys.exit(1)
PY
}
check "serve: python client with an issued client cert gets 200" \
    pyclient alice@example.test.crt alice@example.test.key
is "serve: HTTP/1.1 200 OK" "$(cat "$WORK/out")" "HTTP/1.1 200 OK"
check_not "serve: python client without a certificate is rejected" pyclient
grep -q "^rejected" "$WORK/out" && ok "python saw the rejection" ||
    { not_ok "python saw the rejection"; diag "$WORK/out"; }
check "connect --client alice to serve: ok" "$C" test connect \
    "127.0.0.1:$SP" --name localhost --client alice@example.test
check "connect without a client cert: --expect no-client-cert" "$C" test \
    connect "127.0.0.1:$SP" --name localhost --expect no-client-cert
# A server-only certificate as the client's: the server's alert names the
# reason, so both ends say client-purpose.
check "connect with a server certificate as client: client-purpose" "$C" \
    test connect "127.0.0.1:$SP" --name localhost --client localhost \
    --expect client-purpose
wait $SERVE
is "serve stops after --count 5" "$?" "0"
grep -q "^connection 5: client-purpose .*client=CN=localhost" \
    "$WORK/serve.log" && ok "log: connection 5 client-purpose" ||
    { not_ok "log: connection 5 client-purpose"; diag "$WORK/serve.log"; }
grep -Eq "^connection 1: ok from=127\.0\.0\.1:[0-9]+ client=.*alice@example.test" "$WORK/serve.log" &&
    ok "log: connection 1 ok with the client identity" ||
    { not_ok "log: connection 1 ok with the client identity"; diag "$WORK/serve.log"; }
grep -q "^connection 2: no-client-cert" "$WORK/serve.log" &&
    ok "log: connection 2 no-client-cert" ||
    { not_ok "log: connection 2 no-client-cert"; diag "$WORK/serve.log"; }
grep -q "^connection 4: no-client-cert" "$WORK/serve.log" &&
    ok "log: connection 4 no-client-cert" ||
    { not_ok "log: connection 4 no-client-cert"; diag "$WORK/serve.log"; }

# serve stops on SIGTERM.
timeout --foreground -k 5 20 "$C" test serve --cert localhost --listen 127.0.0.1:0 \
    >"$WORK/serve2.log" 2>&1 &
SERVE=$!
wait_for "$WORK/serve2.log" "^listening on"
kill -TERM $SERVE
wait $SERVE
is "serve exits 0 on SIGTERM" "$?" "0"
expect_fail 2 "--cert is required" "serve without --cert" "$C" test serve
expect_fail 2 "--listen 'x' is not HOST:PORT" "serve: bad --listen" \
    "$C" test serve --cert localhost --listen x
# An address this machine does not have (TEST-NET-1): bad input, 2, as
# ocsp serve says it.
expect_fail 2 "listen on 192.0.2.1:9: " "serve: an address not local" \
    timeout --foreground -k 5 20 "$C" test serve --cert localhost \
    --listen 192.0.2.1:9 --count 1
done_testing
