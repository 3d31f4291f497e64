#!/bin/sh
# client-revocation.sh - client-certificate revocation (issue 13, item 7):
# a server that loads its CA's CRL and a client that presents a revoked
# certificate is the class client-revoked, with the GnuTLS pair, with
# openssl s_server and a Python ssl server (-CRL -crl_check,
# VERIFY_CRL_CHECK_LEAF), and in scenario files (client_crl).
. "$top_srcdir/tests/cli/lib.sh"
need python3

CM="$CERTMINT"
cd "$WORK" || exit 1
"$CM" issue server localhost >/dev/null 2>&1 &&
"$CM" issue client alice@example.test >/dev/null 2>&1 &&
"$CM" issue client bob@example.test >/dev/null 2>&1 ||
    { echo "Bail out! setup"; exit 1; }

# class FILE NAME: the actual class of the row named NAME.
class() {
	python3 - "$@" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["scenarios"]:
    if r["name"] == sys.argv[2]:
        print(r["actual"]); break
else:
    print("none")
PY
}

"$CM" test --cert alice@example.test --only crl --format json >g.json
is "the GnuTLS pair: exit 0" "$?" 0
is "a revoked client certificate, the server checks the CRL: client-revoked (TLS 1.3)" \
    "$(class g.json tls13/mtls-revoked-crl)" client-revoked
is "... under TLS 1.2" "$(class g.json tls12/mtls-revoked-crl)" client-revoked
is "a good one: ok" "$(class g.json tls13/mtls-good-crl)" ok

if command -v openssl >/dev/null 2>&1; then
	"$CM" test --cert alice@example.test --only revoked-crl --peer openssl \
	    --peer-side server --format json >o.json
	is "openssl s_server -CRL -crl_check: exit 0" "$?" 0
	is "... client-revoked" "$(class o.json tls13/mtls-revoked-crl@openssl-server)" \
	    client-revoked
fi
"$CM" test --cert alice@example.test --only revoked-crl --peer python \
    --peer-side server --format json >p.json
is "a Python server with VERIFY_CRL_CHECK_LEAF: exit 0" "$?" 0
is "... client-revoked" "$(class p.json tls12/mtls-revoked-crl@python-server)" \
    client-revoked

# A scenario file: the store's revoked client and the CA's current CRL.
"$CM" revoke bob@example.test --reason keyCompromise >/dev/null 2>&1
cat >rev.scn <<'SCN'
[defaults]
server_cert = cert:localhost
trust = ca:certmint dev CA
name = localhost
client_auth = require
client_trust = ca:certmint dev CA
client_crl = ca:certmint dev CA

[scenario revoked-bob]
client_cert = cert:bob@example.test
expect = client-revoked

[scenario good-alice]
client_cert = cert:alice@example.test
expect = ok
SCN
"$CM" test rev.scn >s.out 2>s.err
is "scenario file with client_crl: exit 0" "$?" 0
check "... bob is client-revoked" grep -Eq "revoked-bob +client-revoked +client-revoked +ok" s.out
printf 'not a crl\n' >junk.crl
sed 's/^client_crl = .*/client_crl = junk.crl/' rev.scn >bad.scn
expect_fail 2 "bad.scn:7: client_crl 'junk.crl' is neither a PEM nor a DER CRL" \
    "a bad client_crl: exit 2 naming the key and line" "$CM" test bad.scn
"$CM" test connect 127.0.0.1:1 --expect client-revoked >/dev/null 2>&1
check_not "client-revoked is a class --expect knows" sh -c \
    "'$CM' test connect 127.0.0.1:1 --expect client-revoked 2>&1 | grep -q 'unknown'"

done_testing
