#!/bin/sh
# serve-kill.sh - kill -9 of certmint serve in the middle of 100
# concurrent ACME orders (issue 15 acceptance): after a restart every
# order is in a valid state (pending, ready, processing, valid, invalid),
# every order that says valid has its certificate in the inventory, and
# the store opens and serves again.  Loopback only, bounded.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need sqlite3
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"

CM="$CERTMINT"
PROBE="$top_srcdir/tests/cli/acme_probe.py"
cd "$WORK" || exit 1
S="$CERTMINT_STORE"
PIDS=
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
HP=$(free_port)
# serve_start OUT: serve on PORT, http-01 to HP for every *.app.test.
serve_start() {
	"$CM" serve --listen "127.0.0.1:$PORT" --timeout 300 --http01-port "$HP" \
	    --rate-orders 1000 --resolve '*.app.test=127.0.0.1' >"$1" 2>"$1.err" &
	SPID=$!
	PIDS="$PIDS $SPID"
	_i=0
	while ! grep -q '^CA bundle to trust:' "$1" 2>/dev/null && [ $_i -lt 150 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	DIR=$(sed -n 's/^ACME directory: //p' "$1" | head -1)
	BUNDLE=$(sed -n 's/^CA bundle to trust: //p' "$1")
}

serve_start s1.out
python3 "$PROBE" "$DIR" "$BUNDLE" many-orders 100 "$HP" >many.out 2>&1 &
LPID=$!
PIDS="$PIDS $LPID"
# Let some orders finish, then kill -9 in the middle.
i=0
while [ "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders WHERE status = 'valid'" 2>/dev/null || echo 0)" -lt 10 ] &&
    [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
wait "$LPID" 2>/dev/null
orders=$(sqlite3 "$S" "SELECT count(*) FROM acme_orders")
check "orders were made before the kill ($orders)" test "$orders" -ge 10
check "... and not all of them finished" sh -c \
    "[ \$(sqlite3 '$S' \"SELECT count(*) FROM acme_orders WHERE status = 'valid'\") -lt 100 ]"

serve_start s2.out
check "serve starts again on the store" test -n "$DIR"
is "every order is pending, ready, processing, valid or invalid" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders WHERE status NOT IN ('pending', 'ready', 'processing', 'valid', 'invalid')")" 0
is "every valid order's certificate is in the inventory" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders o WHERE o.status = 'valid' AND NOT EXISTS (SELECT 1 FROM certs c WHERE c.serial = o.cert_serial)")" 0
is "every authorization of an order is in a valid state" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_authzs WHERE status NOT IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')")" 0
check "the store passes its integrity check" sh -c \
    "[ \"\$(sqlite3 '$S' 'PRAGMA integrity_check')\" = ok ]"
kill -TERM "$SPID"; wait "$SPID"
is "and stops cleanly" "$?" 0

done_testing
