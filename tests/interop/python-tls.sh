#!/bin/sh
# python-tls.sh - Python's ssl module (OpenSSL underneath) as the peer: a
# server loading an issued pair and a client with check_hostname=True,
# CERT_REQUIRED and only the dev CA as trust anchor.  The handshake
# succeeds for each SAN, fails with a hostname error for any other name;
# mutual TLS accepts an issued client certificate and refuses none.
# Everything listens on 127.0.0.1 / ::1, ephemeral ports, bounded.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need python3
python3 -c 'import ssl' 2>/dev/null || skip_all "python3 has no ssl module"
C=$CERTMINT
PAIR="$top_srcdir/tests/interop/tls_pair.py"
cd "$WORK" || exit 1

# run ARGS...: tls_pair.py's result lines into $WORK/r (one per name).
run() { python3 "$PAIR" --ca "$WORK/ca.crt" --timeout 5 "$@" >"$WORK/r" \
    2>"$WORK/rerr"; }
# result NAME: what the client saw for NAME.
result() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }' \
    "$WORK/r"; }
# outcome DESC NAME ERE: the result for NAME matches ERE.
outcome() {
	_r=$(result "$2")
	if echo "$_r" | grep -Eq -- "$3"; then ok "$1"; else
		not_ok "$1"; echo "#   got: '$_r'"; diag "$WORK/r" "$WORK/rerr"
	fi
}

check "init" $C init
$C ca show --pem >"$WORK/ca.crt"
check "issue server for DNS, wildcard, IPv4, IPv6" $C issue server \
    www.app.test '*.app.test' 127.0.0.1 ::1 --cert srv.crt --key srv.key

check "IPv4: server and client run" run --cert srv.crt --key srv.key \
    --host 127.0.0.1 www.app.test x.app.test 127.0.0.1 a.b.app.test \
    app.test other.test 127.0.0.2 localhost
outcome "www.app.test: handshake ok" www.app.test '^ok TLSv1\.[23] hello -$'
outcome "x.app.test: ok through the wildcard" x.app.test '^ok TLSv1'
outcome "127.0.0.1: ok (IP SAN)" 127.0.0.1 '^ok TLSv1'
outcome "a.b.app.test: hostname error (wildcard is one label)" \
    a.b.app.test '^hostname-mismatch .*a\.b\.app\.test'
outcome "app.test: hostname error (wildcard needs a label)" app.test \
    '^hostname-mismatch'
outcome "other.test: hostname error" other.test '^hostname-mismatch'
outcome "127.0.0.2: IP mismatch" 127.0.0.2 '^hostname-mismatch .*127\.0\.0\.2'
outcome "localhost: hostname error (not in the certificate)" localhost \
    '^hostname-mismatch'
is "one result line per name" "$(grep -vc '^#' "$WORK/r")" 8

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	check "IPv6: server and client run" run --cert srv.crt --key srv.key \
	    --host ::1 ::1 ::2
	outcome "::1: ok (IPv6 SAN)" ::1 '^ok TLSv1'
	outcome "::2: IP mismatch" ::2 '^hostname-mismatch'
else
	for i in 1 2 3; do ok "# SKIP no IPv6 loopback"; done
fi

# Another CA's certificate is untrusted, for the right name too.
check "a second, foreign CA" $C --store "$WORK/other.db" init --name Other
check "... issues www.app.test" $C --store "$WORK/other.db" issue server \
    www.app.test --cert foreign.crt --key foreign.key
check "client trusting only our CA" run --cert foreign.crt --key foreign.key \
    www.app.test
outcome "foreign server: untrusted, not a hostname error" www.app.test \
    '^untrusted'

# Every key type as the server's key.
for t in ec-p384 ed25519 rsa-2048; do
	check "issue $t server" $C issue server "$t.test" --key-type "$t" \
	    --cert "$t.crt" --key "$t.key"
	check "$t: run" run --cert "$t.crt" --key "$t.key" "$t.test" wrong.test
	outcome "$t: handshake ok" "$t.test" '^ok TLSv1'
	outcome "$t: wrong name refused" wrong.test '^hostname-mismatch'
done
check "rsa-2048 over TLS 1.2" run --tls12 --cert rsa-2048.crt \
    --key rsa-2048.key rsa-2048.test
outcome "rsa-2048: TLS 1.2 handshake ok" rsa-2048.test '^ok TLSv1\.2 '

# Mutual TLS: the server requires a client certificate from the dev CA.
check "issue client" $C issue client ann@app.test --cert cli.crt --key cli.key
check "issue peer" $C issue peer node.app.test --cert peer.crt --key peer.key
check "mTLS with the client certificate" run --cert srv.crt --key srv.key \
    --client-ca "$WORK/ca.crt" --client-cert cli.crt --client-key cli.key \
    www.app.test
outcome "mTLS: accepted, the server saw the client's CN" www.app.test \
    '^ok TLSv1\.[23] hello CN=ann@app\.test$'
check "mTLS with a peer certificate on both ends" run --cert peer.crt \
    --key peer.key --client-ca "$WORK/ca.crt" --client-cert peer.crt \
    --client-key peer.key node.app.test
outcome "peer/peer: accepted" node.app.test 'hello CN=node\.app\.test$'
check "mTLS without a client certificate" run --cert srv.crt --key srv.key \
    --client-ca "$WORK/ca.crt" www.app.test
outcome "no client certificate: rejected" www.app.test \
    '^rejected .*CERTIFICATE_REQUIRED'
check "... the server says the peer sent none" grep -Eqi \
    'did not return a certificate|certificate required' "$WORK/r"
check "mTLS without a client certificate, TLS 1.2" run --tls12 \
    --cert srv.crt --key srv.key --client-ca "$WORK/ca.crt" www.app.test
outcome "TLS 1.2, no client certificate: refused in the handshake" \
    www.app.test '^handshake-failed .*HANDSHAKE_FAILURE'
check "... the server says the peer sent none" \
    grep -q 'did not return a certificate' "$WORK/r"
check "mTLS with a foreign client certificate" run --cert srv.crt \
    --key srv.key --client-ca "$WORK/ca.crt" --client-cert foreign.crt \
    --client-key foreign.key www.app.test
outcome "foreign client certificate: rejected (unknown CA)" www.app.test \
    '^(rejected|handshake-failed) .*UNKNOWN_CA'
check "... the server says why" grep -q 'unable to get local issuer' "$WORK/r"
check "mTLS with a server-only certificate as client" run --cert srv.crt \
    --key srv.key --client-ca "$WORK/ca.crt" --client-cert srv.crt \
    --client-key srv.key www.app.test
outcome "server-only certificate as client: rejected (no clientAuth)" \
    www.app.test '^(rejected|handshake-failed) .*UNSUPPORTED_CERTIFICATE'
check "... the server says: unsuitable purpose" \
    grep -q 'unsuitable certificate purpose' "$WORK/r"
done_testing
