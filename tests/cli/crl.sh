#!/bin/sh
# crl.sh - certmint crl: complete and delta CRLs, checked by OpenSSL and
# GnuTLS's certtool; CA URLs placed in issued certificates.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need certtool
cd "$WORK" || exit 1
C=$CERTMINT

check "init" $C init
check "ca set URLs" $C ca set --crl-url http://crl.test/dev.crl \
	--ocsp-url http://127.0.0.1:8080/
grep -q "OCSP URL  http://127.0.0.1:8080/" "$WORK/out" &&
	ok "ca set prints the URLs" || not_ok "ca set prints the URLs"
$C ca show --pem >ca.pem
for n in good bad hold older; do
	$C issue server $n.test >/dev/null 2>&1 || not_ok "issue $n"
done
openssl x509 -in good.test.crt -noout -ext crlDistributionPoints,authorityInfoAccess >ext.txt 2>&1
grep -q "URI:http://crl.test/dev.crl" ext.txt &&
	grep -q "OCSP - URI:http://127.0.0.1:8080/" ext.txt &&
	ok "issued certificate carries CRL DP and AIA OCSP" ||
	{ not_ok "issued certificate carries CRL DP and AIA OCSP"; diag ext.txt; }
expect_fail 2 "^certmint: OCSP URL 'ftp://x' must start with http://" \
	"ca set refuses a non-HTTP OCSP URL" $C ca set --ocsp-url ftp://x
expect_fail 2 "^certmint: CA 'nope' not found|^certmint: .*nope" \
	"crl --ca unknown" $C crl --ca nope --out x.pem
expect_fail 2 "^certmint: CA '.*' has no complete CRL yet" \
	"delta before any complete CRL" $C crl --delta --out d.pem
expect_fail 2 "next-update '3x' is not a duration" \
	"crl --next-update 3x" $C crl --next-update 3x

# bad: key compromise at a fixed past time; hold: certificateHold.
# Revoked as of its notBefore: a fixed time the checks below can name.
nb=$(openssl x509 -in bad.test.crt -noout -startdate | cut -d= -f2)
check "revoke bad (keyCompromise)" $C revoke bad.test --reason keyCompromise \
	--at "@$(date -d "$nb" +%s)"
check "revoke hold (certificateHold)" $C revoke hold.test \
	--reason certificateHold
check "crl --out crl.pem" $C crl --out crl.pem --next-update 12h
grep -q "Wrote CRL 1 .*2 entries" "$WORK/out" && ok "CRL 1 with 2 entries" ||
	{ not_ok "CRL 1 with 2 entries"; diag "$WORK/out"; }

openssl crl -in crl.pem -CAfile ca.pem -noout >v.txt 2>&1
grep -q "verify OK" v.txt && ok "openssl crl: verify OK" ||
	{ not_ok "openssl crl: verify OK"; diag v.txt; }
openssl crl -in crl.pem -noout -text >t.txt 2>&1
grep -q "Key Compromise" t.txt && grep -q "Certificate Hold" t.txt &&
	ok "openssl crl -text shows the reasons" ||
	{ not_ok "openssl crl -text shows the reasons"; diag t.txt; }
grep -A1 "Invalidity Date" t.txt | grep -q "$nb" &&
	ok "openssl crl -text shows the invalidity date" ||
	{ not_ok "openssl crl -text shows the invalidity date"; diag t.txt; }
grep -A1 "CRL Number" t.txt | grep -qE "^ +1$" &&
	grep -q "X509v3 Authority Key Identifier" t.txt &&
	ok "cRLNumber 1 and authorityKeyIdentifier" ||
	{ not_ok "cRLNumber 1 and authorityKeyIdentifier"; diag t.txt; }
lu=$(openssl crl -in crl.pem -noout -lastupdate -dateopt iso_8601 2>/dev/null | cut -d= -f2)
nu=$(openssl crl -in crl.pem -noout -nextupdate -dateopt iso_8601 2>/dev/null | cut -d= -f2)
if [ -n "$lu" ] && [ -n "$nu" ]; then
	is "nextUpdate is 12h after thisUpdate" \
		$(( $(date -ud "$nu" +%s) - $(date -ud "$lu" +%s) )) 43200
else
	not_ok "nextUpdate readable"
fi

check_not "openssl verify -crl_check rejects the revoked certificate" \
	openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem bad.test.crt
grep -q "certificate revoked" "$WORK/out" "$WORK/err" &&
	ok "... because it is revoked" || not_ok "... because it is revoked"
check "openssl verify -crl_check accepts a good certificate" \
	openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem good.test.crt

certtool --crl-info --infile crl.pem >ci.txt 2>&1
grep -q "Revoked certificates (2)" ci.txt && grep -q "CRL Number (not critical): 01" ci.txt &&
	ok "certtool --crl-info parses it" || { not_ok "certtool --crl-info"; diag ci.txt; }
certtool --verify-crl --load-ca-certificate ca.pem --infile crl.pem >cv.txt 2>&1
grep -q "Verified" cv.txt && ok "certtool --verify-crl: verified" ||
	{ not_ok "certtool --verify-crl"; diag cv.txt; }
certtool --verify --load-ca-certificate ca.pem --load-crl crl.pem \
	--infile bad.test.crt >gv.txt 2>&1
grep -q "revoked" gv.txt && ok "GnuTLS verification: bad is revoked" ||
	{ not_ok "GnuTLS verification: bad is revoked"; diag gv.txt; }
certtool --verify --load-ca-certificate ca.pem --load-crl crl.pem \
	--infile good.test.crt >gv.txt 2>&1
grep -q "Chain verification output: Verified" gv.txt &&
	ok "GnuTLS verification: good verifies" ||
	{ not_ok "GnuTLS verification: good verifies"; diag gv.txt; }

# Delta CRL: only what was revoked since CRL 1.
check "revoke older (superseded)" $C revoke older.test --reason superseded
check "crl --delta" $C crl --delta --out delta.pem
grep -q "Wrote delta CRL 2 (base 1) .*1 entries" "$WORK/out" &&
	ok "delta CRL 2 on base 1 with 1 entry" ||
	{ not_ok "delta CRL 2 on base 1"; diag "$WORK/out"; }
openssl crl -in delta.pem -CAfile ca.pem -noout >v.txt 2>&1
grep -q "verify OK" v.txt && ok "openssl crl: delta verify OK" ||
	{ not_ok "openssl crl: delta verify OK"; diag v.txt; }
openssl crl -in delta.pem -noout -text >t.txt 2>&1
grep -A1 "Delta CRL Indicator: critical" t.txt | grep -qE "^ +1$" &&
	grep -q "Superseded" t.txt && ! grep -q "Key Compromise" t.txt &&
	ok "delta carries a critical deltaCRLIndicator 1 and the new entry only" ||
	{ not_ok "delta content"; diag t.txt; }
certtool --crl-info --infile delta.pem >ci.txt 2>&1 &&
	ok "certtool --crl-info parses the delta" || { not_ok "certtool delta"; diag ci.txt; }
certtool --verify-crl --load-ca-certificate ca.pem --infile delta.pem >cv.txt 2>&1
grep -q "Verified" cv.txt && ok "certtool --verify-crl: delta verified" ||
	{ not_ok "certtool --verify-crl delta"; diag cv.txt; }

check "complete CRL 3 in DER, with --json" $C crl --der --out crl.der --json
grep -q '"number": 3' "$WORK/out" && grep -q '"entries": 3' "$WORK/out" &&
	ok "JSON: number 3, 3 entries" || { not_ok "JSON"; diag "$WORK/out"; }
openssl crl -inform DER -in crl.der -CAfile ca.pem -noout >v.txt 2>&1
grep -q "verify OK" v.txt && ok "DER CRL: verify OK" || { not_ok "DER CRL"; diag v.txt; }
# OpenSSL applies deltas only to certificates with freshestCRL; the next
# complete CRL must carry the delta's entry.
check_not "openssl verify rejects the newly revoked certificate by CRL 3" \
	openssl verify -crl_check -CAfile ca.pem -CRLfile crl.der older.test.crt
grep -q "certificate revoked" "$WORK/out" "$WORK/err" &&
	ok "... because it is revoked" || { not_ok "... revoked"; diag "$WORK/err"; }
check "crl to standard output" sh -c "$C crl > out.pem"
grep -q "BEGIN X509 CRL" out.pem && ok "PEM on standard output" ||
	not_ok "PEM on standard output"

# Every key type signs CRLs that OpenSSL and GnuTLS verify.
for kt in ec-p384 ec-p521 ed25519 rsa-2048; do
	export CERTMINT_STORE="$WORK/$kt.db"
	$C init --key-type $kt >/dev/null 2>&1 &&
		$C issue server x.test --cert x-$kt.crt --key x-$kt.key >/dev/null 2>&1 &&
		$C revoke x.test --reason keyCompromise >/dev/null &&
		$C ca show --pem >ca-$kt.pem && $C crl --out crl-$kt.pem >/dev/null ||
		not_ok "$kt: CRL made"
	openssl crl -in crl-$kt.pem -CAfile ca-$kt.pem -noout >v.txt 2>&1
	grep -q "verify OK" v.txt && ok "$kt: openssl verify OK" ||
		{ not_ok "$kt: openssl verify"; diag v.txt; }
	certtool --verify-crl --load-ca-certificate ca-$kt.pem \
		--infile crl-$kt.pem >cv.txt 2>&1
	grep -q "Verified" cv.txt && ok "$kt: certtool verified" ||
		{ not_ok "$kt: certtool"; diag cv.txt; }
done

# certmint status lists the CRL due next, from the newest CRL's nextUpdate.
S2="$WORK/status.db"
CERTMINT_STORE=$S2 $C issue server due.test >/dev/null 2>&1
CERTMINT_STORE=$S2 $C status --json >st0.json
is "no CRL due before one is published" \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["crls_due"]))' st0.json)" 0
CERTMINT_STORE=$S2 $C crl --next-update 3d --out due.crl --json >crl3.json
CERTMINT_STORE=$S2 $C status --json >st1.json
check "status shows the CRL due at its nextUpdate" python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))["crls_due"]
assert len(st) == 1 and st[0]["ca"] == "certmint dev CA", st
crl = open(sys.argv[2]).read()
assert st[0]["next_update"] in crl, (st, crl)
' st1.json crl3.json

# A CRL that cannot be written is not recorded: no row, no cRLNumber used.
n0=$(sqlite3 "$S2" "SELECT count(*) FROM crls")
CERTMINT_STORE=$S2 $C crl --out "$WORK/nonexistent/x.crl" >/dev/null 2>err.txt
is "crl into a missing folder fails (2)" "$?" 2
check "... the message names the file" grep -q "nonexistent/x.crl" err.txt
is "... no CRL recorded" "$(sqlite3 "$S2" "SELECT count(*) FROM crls")" "$n0"
CERTMINT_STORE=$S2 $C crl --out next.crl --json >next.json
check "... the next CRL takes the next number" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["number"] == 2
' next.json

# --out replaces an existing CRL (a publication refreshed in place), but
# never writes through a link planted at the output: the link itself goes.
echo precious >victim
ln -s "$WORK/victim" linked.crl
check "crl --out over a symlink" env CERTMINT_STORE=$S2 $C crl --out linked.crl
is "... the link's target is untouched" "$(cat victim)" precious
check "... the output is a regular file now" test -f linked.crl -a ! -L linked.crl
check "... holding a CRL" openssl crl -in linked.crl -noout
CERTMINT_STORE=$S2 $C ocsp response due.test --out linked.ocsp >/dev/null 2>&1
ln -sf "$WORK/victim" linked.ocsp
check "ocsp response --out over a symlink" env CERTMINT_STORE=$S2 \
    $C ocsp response due.test --out linked.ocsp
is "... the link's target is untouched" "$(cat victim)" precious
check "... the output is a regular file now" test -f linked.ocsp -a ! -L linked.ocsp
done_testing
