#!/bin/sh
# harness-revocation.sh - revocation in the TLS harness (issue 4, item 7):
# the default matrix's CRL, OCSP-staple and must-staple scenarios; the
# drill (test, revoke, test again reports revoked); scenario files with
# crl / ocsp_staple; OpenSSL agrees on the CRL.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl

C=$CERTMINT
cd "$WORK" || exit 1
check "init" $C init
check "issue www.test" $C issue server www.test 127.0.0.1
$C ca show --pem >ca.pem

# rows FILE NAME...: "name expected actual match" of a JSON report
rows() {
	python3 -c 'import json,sys
d = {r["name"]: r for r in json.load(open(sys.argv[1]))["scenarios"]}
for n in sys.argv[2:]:
    r = d.get(n)
    print(n, r["expected"], r["actual"], r["match"]) if r else print(n, "absent")
' "$@"
}
# has FILE DESC ERE: FILE matches ERE
has() {
	if grep -Eq -- "$3" "$1"; then ok "$2"; else not_ok "$2"; diag "$1"; fi
}
# status FILE NAME: the GnuTLS status bits of one row
status() {
	python3 -c 'import json,sys
d = {r["name"]: r for r in json.load(open(sys.argv[1]))["scenarios"]}
print(d[sys.argv[2]]["status"])' "$1" "$2"
}

# ---- the default matrix, certificate valid ----
t0=$(date +%s%N)
check "matrix before revocation: every scenario matches" \
    $C test --cert www.test --format json
t1=$(date +%s%N)
cp "$WORK/out" before.json
ms=$(( (t1 - t0) / 1000000 ))
# Speed is the benchmark's business (tests/bench), never an assertion here.
echo "# full matrix for a server certificate in ${ms} ms"
for v in tls12 tls13; do
	is "$v: CRL, staple and must-staple scenarios match" \
	    "$(rows before.json $v/revoked-crl $v/good-crl \
	    $v/revoked-ocsp-staple $v/good-ocsp-staple \
	    $v/must-staple-missing $v/must-staple-stapled)" \
"$v/revoked-crl revoked revoked True
$v/good-crl ok ok True
$v/revoked-ocsp-staple revoked revoked True
$v/good-ocsp-staple ok ok True
$v/must-staple-missing revoked revoked True
$v/must-staple-stapled ok ok True"
	# GNUTLS_CERT_REVOKED (0x20) from the CRL and from the staple; the
	# must-staple twin: GNUTLS_CERT_MISSING_OCSP_STATUS (1 << 19).
	is "$v/revoked-crl: status has GNUTLS_CERT_REVOKED" \
	    $(( $(status before.json $v/revoked-crl) & 32 )) 32
	is "$v/revoked-ocsp-staple: status has GNUTLS_CERT_REVOKED" \
	    $(( $(status before.json $v/revoked-ocsp-staple) & 32 )) 32
	is "$v/must-staple-missing: GNUTLS_CERT_MISSING_OCSP_STATUS" \
	    $(( $(status before.json $v/must-staple-missing) & 524288 )) 524288
	is "$v: positive scenarios ok before revocation" \
	    "$(rows before.json $v/name:www.test $v/ip:127.0.0.1)" \
"$v/name:www.test ok ok True
$v/ip:127.0.0.1 ok ok True"
done

# ---- the drill: revoke, the same run reports revoked ----
check "certmint revoke www.test" $C revoke www.test --reason keyCompromise
crls_before=$(sqlite3 "$CERTMINT_STORE" 'SELECT count(*) FROM crls' 2>/dev/null)
check "matrix after revocation: still exit 0 (expectation follows the store)" \
    $C test --cert www.test --format json
cp "$WORK/out" after.json
for v in tls12 tls13; do
	is "$v: positive scenarios now report revoked" \
	    "$(rows after.json $v/name:www.test $v/upper-case:WWW.TEST \
	    $v/ip:127.0.0.1 $v/request-client-cert-none)" \
"$v/name:www.test revoked revoked True
$v/upper-case:WWW.TEST revoked revoked True
$v/ip:127.0.0.1 revoked revoked True
$v/request-client-cert-none revoked revoked True"
	is "$v: revoked via the CA's CRL (GNUTLS_CERT_REVOKED)" \
	    $(( $(status after.json $v/name:www.test) & 32 )) 32
	is "$v: a wrong name still says hostname" \
	    "$(rows after.json $v/sibling:xwww.test)" \
	    "$v/sibling:xwww.test hostname hostname True"
	is "$v: twins unaffected" "$(rows after.json $v/expired-twin $v/good-crl)" \
"$v/expired-twin expired expired True
$v/good-crl ok ok True"
done
check "table after revocation" $C test --cert www.test --only tls13/name:
out_has "the table shows revoked for the name" \
    "tls13/name:www.test +revoked +revoked +ok"
if [ -n "$crls_before" ]; then
	is "the drill records no CRL in the store" \
	    "$(sqlite3 "$CERTMINT_STORE" 'SELECT count(*) FROM crls')" \
	    "$crls_before"
fi

# ---- OpenSSL agrees: the CA's CRL rejects the certificate ----
check "certmint crl" $C crl --out crl.pem
check_not "openssl verify -crl_check rejects the revoked certificate" \
    openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem www.test.crt
grep -q "certificate revoked" "$WORK/out" "$WORK/err" &&
	ok "openssl says: certificate revoked" ||
	{ not_ok "openssl says: certificate revoked"; diag "$WORK/out"; }
check "issue good.test" $C issue server good.test
check "openssl verify -crl_check accepts a good certificate" \
    openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem good.test.crt

# ---- a real must-staple certificate: served with a fresh staple ----
cat >ms.tmpl <<'EOF'
organization = "certmint test"
expiration_days = 30
tls_www_server
signing_key
tls_feature = 5
EOF
check "issue a must-staple certificate" $C issue server ms.test --profile ms.tmpl
openssl x509 -in ms.test.crt -noout -text >ms.txt 2>&1
grep -qi "TLS Feature" ms.txt && ok "ms.test carries the TLS feature" ||
	not_ok "ms.test carries the TLS feature"
check "must-staple certificate: the matrix matches" $C test --cert ms.test \
    --format json
is "must-staple certificate: name ok with a staple from the store" \
    "$(rows "$WORK/out" tls13/name:ms.test tls12/name:ms.test)" \
"tls13/name:ms.test ok ok True
tls12/name:ms.test ok ok True"
$C revoke ms.test >/dev/null 2>&1
check "must-staple certificate revoked: still matches" $C test --cert ms.test \
    --format json
is "must-staple certificate revoked: name reports revoked" \
    "$(rows "$WORK/out" tls13/name:ms.test)" "tls13/name:ms.test revoked revoked True"

# ---- scenario files: crl and ocsp_staple ----
check "issue localhost" $C issue server localhost 127.0.0.1
check "issue revoked.test" $C issue server revoked.test
check "revoke revoked.test" $C revoke revoked.test --reason keyCompromise
check "examples/scenarios/revocation.scn matches" \
    $C test "$top_srcdir/examples/scenarios/revocation.scn"
cp "$WORK/out" example.out
has example.out "example: staple-revoked reports revoked" \
    "staple-revoked +revoked +revoked +ok"
has example.out "example: crl-revoked reports revoked" \
    "crl-revoked +revoked +revoked +ok"

check "certmint crl --der" $C crl --der --out crl.der
check "ocsp response for revoked.test" $C ocsp response revoked.test \
    --out revoked.ocsp
check "ocsp response for localhost" $C ocsp response localhost --out good.ocsp
cat >files.scn <<'EOF'
[defaults]
trust = ca:certmint dev CA

[scenario crl-pem-revoked]
server_cert = cert:revoked.test
name = revoked.test
crl = crl.pem
expect = revoked

[scenario crl-der-revoked]
server_cert = cert:revoked.test
name = revoked.test
crl = file:crl.der
expect = revoked

[scenario crl-der-good]
server_cert = cert:localhost
name = localhost
crl = crl.der
expect = ok

[scenario staple-file-revoked]
server_cert = cert:revoked.test
name = revoked.test
ocsp_staple = revoked.ocsp
expect = revoked

[scenario staple-file-revoked-tls12]
server_cert = cert:revoked.test
name = revoked.test
version = tls1.2
ocsp_staple = revoked.ocsp
expect = revoked

[scenario staple-file-good]
server_cert = cert:localhost
name = localhost
ocsp_staple = good.ocsp
expect = ok

[scenario no-revocation-data]
note = without a CRL or staple the client cannot know
server_cert = cert:revoked.test
name = revoked.test
expect = ok
EOF
# crl.pem predates the revocation of revoked.test: a fresh one.
check "certmint crl (again)" $C crl --out crl.pem
check "scenario file with crl/ocsp_staple files matches" $C test files.scn
cp "$WORK/out" files.out
for n in crl-pem-revoked crl-der-revoked staple-file-revoked \
    staple-file-revoked-tls12; do
	has files.out "$n reports revoked" "$n +revoked +revoked +ok"
done
has files.out "crl-der-good reports ok" "crl-der-good +ok +ok +ok"
has files.out "staple-file-revoked-tls12 ran under TLS 1.2" \
    "staple-file-revoked-tls12 .*TLS1\.2"

# A staple for another certificate: GnuTLS's client rejects it.
cat >wrong.scn <<'EOF'
[scenario staple-of-another]
server_cert = cert:localhost
trust = ca:certmint dev CA
name = localhost
ocsp_staple = revoked.ocsp
expect = revoked
EOF
check "a staple for another certificate is not accepted" $C test wrong.scn

printf 'not a crl\n' >junk.txt

# ---- interop: openssl s_client -status sees certmint's staple ----
check "test serve with --ocsp-staple (background)" sh -c \
    "$C test serve --cert revoked.test --listen 127.0.0.1:0 --count 1 \
    --timeout 3000 --ocsp-staple revoked.ocsp >serve.out 2>&1 &"
port=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' serve.out 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -n "$port" ]; then
	timeout 10 openssl s_client -connect "127.0.0.1:$port" -status \
	    -servername revoked.test </dev/null >sclient.out 2>&1
	has sclient.out "openssl s_client -status: OCSP response successful" \
	    "OCSP Response Status: successful"
	has sclient.out "openssl s_client -status: Cert Status: revoked" \
	    "Cert Status: revoked"
	has sclient.out "openssl s_client -status: reason keyCompromise" \
	    "Revocation Reason: keyCompromise"
else
	not_ok "test serve printed its port"; diag serve.out
fi
expect_fail 2 "^certmint: --ocsp-staple 'junk.txt' is not a DER OCSP response$" \
    "test serve --ocsp-staple refuses a non-DER file" \
    $C test serve --cert localhost --ocsp-staple junk.txt

# ---- errors ----
printf '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\ncrl = junk.txt\nexpect = ok\n' >bad1.scn
expect_fail 2 "^certmint: bad1.scn:4: crl 'junk.txt' is neither a PEM nor a DER CRL$" \
    "a crl that is no CRL" $C test bad1.scn
printf '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nocsp_staple = junk.txt\nexpect = ok\n' >bad2.scn
expect_fail 2 "^certmint: bad2.scn:4: ocsp_staple 'junk.txt' is not a DER OCSP response$" \
    "an ocsp_staple that is no response" $C test bad2.scn
printf '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\ncrl = ca:nope\nexpect = ok\n' >bad3.scn
expect_fail 2 "^certmint: bad3.scn:4: .*nope" "crl = ca:NAME of an unknown CA" \
    $C test bad3.scn
printf '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nocsp_staple = missing.der\nexpect = ok\n' >bad4.scn
expect_fail 2 "^certmint: bad4.scn:4: .*missing.der" "a missing staple file" \
    $C test bad4.scn
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout f.key -out f.crt -subj /CN=foreign.test -days 2 >/dev/null 2>&1
printf '[scenario a]\nserver_cert = f.crt\nserver_key = f.key\ntrust = f.crt\nocsp_staple = auto\nexpect = ok\n' >bad5.scn
expect_fail 2 "^certmint: bad5.scn:5: ocsp_staple auto: the server certificate \(serial [0-9a-f]+\) is not in the store$" \
    "ocsp_staple auto for a certificate not in the store" $C test bad5.scn

# ---- a revoked intermediate: certificates below it report revoked ----
check "ca create inter" $C ca create inter --parent "certmint dev CA"
check "issue under.test from inter" $C issue server under.test --ca inter
check "under.test before: matches" $C test --cert under.test --format json
is "under.test before: name ok" "$(rows "$WORK/out" tls13/name:under.test)" \
    "tls13/name:under.test ok ok True"
check "revoke the intermediate" $C revoke inter
check "under.test after: matches" $C test --cert under.test --format json
cp "$WORK/out" under.json
is "under.test after: name reports revoked (the root's CRL lists inter)" \
    "$(rows under.json tls13/name:under.test tls12/name:under.test)" \
"tls13/name:under.test revoked revoked True
tls12/name:under.test revoked revoked True"
is "under.test after: GNUTLS_CERT_REVOKED" \
    $(( $(status under.json tls13/name:under.test) & 32 )) 32

done_testing
