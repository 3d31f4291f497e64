#!/bin/sh
# openssl-verify.sh - every certificate certmint issues passes OpenSSL's
# verify -x509_strict for its purpose and each of its names, and fails for
# the wrong purpose or a name it does not carry.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need sqlite3
C=$CERTMINT
cd "$WORK" || exit 1

# v DESC ARGS...: openssl verify -x509_strict passes with the dev CA as
# the only trust anchor.  nv DESC REASON ARGS...: it fails, and openssl's
# reason matches the extended regex REASON (so a typo in the arguments
# does not pass for a refusal).
v() { _d=$1; shift; check "$_d" openssl verify -x509_strict \
    -CAfile "$WORK/ca.crt" "$@"; }
nv() {
	_d=$1; _r=$2; shift 2
	if openssl verify -x509_strict -CAfile "$WORK/ca.crt" "$@" \
	    >"$WORK/vout" 2>&1; then
		not_ok "$_d (verified)"
	elif grep -Eq -- "$_r" "$WORK/vout"; then
		ok "$_d"
	else
		not_ok "$_d (other reason)"; diag "$WORK/vout"
	fi
}
HN="hostname mismatch"

check "init" $C init
$C ca show --pem >"$WORK/ca.crt"
v "the CA verifies as its own anchor" "$WORK/ca.crt"

check "issue server (DNS, wildcard, IPv4, IPv6, email)" $C issue server \
    www.app.test '*.app.test' 127.0.0.1 ::1 webmaster@app.test \
    --cert srv.crt --key srv.key
check "issue client" $C issue client alice@app.test alice.app.test \
    --cert cli.crt --key cli.key
check "issue peer" $C issue peer node.app.test 10.9.8.7 \
    --cert peer.crt --key peer.key

# Purposes.
v "server: -purpose sslserver" -purpose sslserver srv.crt
nv "server: not -purpose sslclient" "unsuitable certificate purpose" -purpose sslclient srv.crt
v "client: -purpose sslclient" -purpose sslclient cli.crt
nv "client: not -purpose sslserver" "unsuitable certificate purpose" -purpose sslserver cli.crt
v "peer: -purpose sslserver" -purpose sslserver peer.crt
v "peer: -purpose sslclient" -purpose sslclient peer.crt

# Every name of the server certificate.
v "server: -verify_hostname www.app.test" -purpose sslserver \
    -verify_hostname www.app.test srv.crt
v "server: -verify_ip 127.0.0.1" -purpose sslserver -verify_ip 127.0.0.1 \
    srv.crt
v "server: -verify_ip ::1" -purpose sslserver -verify_ip ::1 srv.crt
v "server: -verify_email webmaster@app.test" -verify_email \
    webmaster@app.test srv.crt
# The wildcard: one label, leftmost, never the bare parent.
v "wildcard *.app.test matches x.app.test" -purpose sslserver \
    -verify_hostname x.app.test srv.crt
nv "wildcard *.app.test does not match a.b.app.test" "$HN" -purpose sslserver \
    -verify_hostname a.b.app.test srv.crt
nv "wildcard *.app.test does not match app.test" "$HN" -purpose sslserver \
    -verify_hostname app.test srv.crt
# Names the certificate does not carry.
nv "server: not other.test" "$HN" -purpose sslserver -verify_hostname other.test \
    srv.crt
nv "server: not 127.0.0.2" "IP address mismatch" -purpose sslserver -verify_ip 127.0.0.2 srv.crt
nv "server: not ::2" "IP address mismatch" -purpose sslserver -verify_ip ::2 srv.crt
nv "server: not root@app.test" "email address mismatch" -verify_email root@app.test srv.crt
nv "server: the IP SAN is no DNS name (-verify_hostname 127.0.0.1)" "$HN" \
    -purpose sslserver -verify_hostname 127.0.0.1 srv.crt
v "client: -verify_email alice@app.test" -purpose sslclient \
    -verify_email alice@app.test cli.crt
v "client: -verify_hostname alice.app.test" -purpose sslclient \
    -verify_hostname alice.app.test cli.crt
nv "client: not bob@app.test" "email address mismatch" -purpose sslclient -verify_email \
    bob@app.test cli.crt
v "peer: -verify_hostname node.app.test" -verify_hostname node.app.test \
    peer.crt
v "peer: -verify_ip 10.9.8.7" -verify_ip 10.9.8.7 peer.crt
nv "peer: not 10.9.8.8" "IP address mismatch" -verify_ip 10.9.8.8 peer.crt

# Every key type.
for t in ec-p256 ec-p384 ec-p521 ed25519 ed448 rsa-2048; do
	check "issue --key-type $t" $C issue server "$t.app.test" \
	    --key-type "$t" --cert "$t.crt" --key "$t.key"
	v "$t: verifies for sslserver and its name" -purpose sslserver \
	    -verify_hostname "$t.app.test" "$t.crt"
done
# A CA of another key type signs verifiable certificates too.
for t in ec-p384 ed25519 rsa-2048; do
	check "a $t CA" $C --store "$WORK/$t-ca.db" init --key-type "$t"
	$C --store "$WORK/$t-ca.db" ca show --pem >"$WORK/$t-ca.crt"
	check "... issues" $C --store "$WORK/$t-ca.db" issue server \
	    "by-$t.test" --cert "by-$t.crt" --key "by-$t.key"
	check "... verifiable by openssl" openssl verify -x509_strict \
	    -purpose sslserver -verify_hostname "by-$t.test" \
	    -CAfile "$WORK/$t-ca.crt" "by-$t.crt"
done
nv "a certificate from another CA does not verify" "unable to get local issuer" -purpose sslserver \
    by-rsa-2048.crt

# The name-constrained CA: inside verifies; outside is refused by certmint
# and, made behind its back with openssl and the same key, by openssl too.
NC="$WORK/nc.db"
check "init --permit .test --permit 127.0.0.0/8" $C --store "$NC" init \
    --name "NC CA" --permit .test --permit 127.0.0.0/8
$C --store "$NC" ca show --pem >"$WORK/nc.crt"
check "issue inside the constraints" $C --store "$NC" issue server \
    in.test 127.0.0.5 --cert in.crt --key in.key
check "inside: verifies (name constraints checked by openssl)" \
    openssl verify -x509_strict -purpose sslserver -verify_hostname in.test \
    -verify_ip 127.0.0.5 -CAfile "$WORK/nc.crt" in.crt
expect_fail 2 "outside the name constraints" "certmint refuses example.com" \
    $C --store "$NC" issue server example.com --cert out.crt --key out.key
sqlite3 "$NC" "select writefile('$WORK/nc-key.der', k.pkcs8) from keys k
    join cas c on c.key_id = k.id" >/dev/null
if openssl pkey -inform DER -in "$WORK/nc-key.der" -out "$WORK/nc.key" \
    2>/dev/null; then
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/rogue.key" -subj "/CN=example.com" \
	    -out "$WORK/rogue.csr" 2>/dev/null
	printf 'subjectAltName=DNS:example.com\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
	    >"$WORK/rogue.ext"
	check "openssl signs a rogue example.com with the NC CA's key" \
	    openssl x509 -req -in "$WORK/rogue.csr" -CA "$WORK/nc.crt" \
	    -CAkey "$WORK/nc.key" -CAcreateserial -days 1 \
	    -extfile "$WORK/rogue.ext" -out "$WORK/rogue.crt"
	check_not "openssl verify rejects it: the constraint is real" \
	    openssl verify -x509_strict -purpose sslserver \
	    -CAfile "$WORK/nc.crt" "$WORK/rogue.crt"
	err_has "... for the name constraint" \
	    "permitted subtree|name constraint|subtree violation"
else
	ok "# SKIP the CA key is not a plain PKCS#8 in this store"
	ok "# SKIP the CA key is not a plain PKCS#8 in this store"
	ok "# SKIP the CA key is not a plain PKCS#8 in this store"
fi
done_testing
