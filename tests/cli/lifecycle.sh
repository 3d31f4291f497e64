#!/bin/sh
# Intermediate CAs: chains that openssl -x509_strict and certtool accept,
# path length and name constraints enforced, revoked CAs that cannot sign,
# status and expiry listings.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need certtool
need sqlite3
need python3
C=$CERTMINT
cd "$WORK" || exit 1

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

check "init a constrained root" $C init --name Root --permit .test \
    --permit 10.0.0.0/8
$C ca show Root --pem > root.pem
check "ca create --help" $C ca create --help
grep -q -- "--pathlen" "$WORK/out" && ok "ca create --help documents --pathlen" ||
    not_ok "ca create --help documents --pathlen"
check "ca create an intermediate" $C ca create Int --parent Root
is "ca list shows the parent" \
    "$($C ca list | awk '$1 == "Int" { print $NF }')" "Root"
is "ca show --json: parent" \
    "$($C ca show Int --json | jget 'd["parent"]')" "Root"
is "ca show --json: path length 0 (intermediate-ca profile)" \
    "$($C ca show Int --json | jget 'd["path_len"]')" "0"
$C ca show Int --pem > int.pem
openssl x509 -in int.pem -noout -text > int.txt
grep -q "CA:TRUE, pathlen:0" int.txt && ok "intermediate: CA:TRUE, pathlen:0" ||
    not_ok "intermediate: CA:TRUE, pathlen:0"
grep -q "DNS:test" int.txt && ok "intermediate inherits the root's constraints" ||
    not_ok "intermediate inherits the root's constraints"
check "openssl verify -x509_strict: intermediate -> root" \
    openssl verify -x509_strict -CAfile root.pem int.pem
is "the intermediate is recorded as a certificate of the root" \
    "$($C list --ca Root --json | jget 'd["certificates"][0]["profile"]')" \
    "intermediate-ca"

check "issue under the intermediate with --chain" \
    $C issue server www.app.test 10.1.2.3 --ca Int --chain chain.pem
is "chain: the intermediate only (not the root)" \
    "$(grep -c 'BEGIN CERTIFICATE' chain.pem)" 1
cmp -s chain.pem int.pem && ok "chain is the intermediate's certificate" ||
    not_ok "chain is the intermediate's certificate"
check "openssl verify -x509_strict: leaf -> intermediate -> root" \
    openssl verify -x509_strict -purpose sslserver -CAfile root.pem \
    -untrusted chain.pem www.app.test.crt
check_not "openssl: the leaf alone does not verify against the root" \
    openssl verify -x509_strict -CAfile root.pem www.app.test.crt
cat www.app.test.crt chain.pem > full.pem
check "certtool --verify agrees" certtool --verify \
    --load-ca-certificate root.pem --infile full.pem
expect_fail 2 "name 'www.example.com' is outside the name constraints of CA" \
    "the root's constraints bind issuance under the intermediate" \
    $C issue server www.example.com --ca Int

# Path length.
expect_fail 2 "^certmint: CA 'Int' has path length 0: it cannot sign another CA$" \
    "a CA under a pathlen-0 intermediate is refused" \
    $C ca create Sub --parent Int
is "nothing recorded for the refused CA" "$($C ca list | grep -c '^Sub ')" 0

# A chain forged around the limit: Int's key signs a CA by hand.
sqlite3 "$CERTMINT_STORE" "SELECT writefile('int.der', k.pkcs8) FROM keys k \
    JOIN cas c ON c.key_id = k.id WHERE c.name = 'Int'" >/dev/null
openssl pkey -inform DER -in int.der -out int.key 2>/dev/null
cat > forged.tmpl <<'T'
cn = "Forged CA"
ca
cert_signing_key
expiration_days = 30
T
cat > leaf.tmpl <<'T'
cn = "forged.app.test"
dns_name = "forged.app.test"
tls_www_server
signing_key
expiration_days = 30
T
certtool --generate-privkey --key-type ecdsa --outfile forged.key \
    >/dev/null 2>&1
certtool --generate-certificate --load-privkey forged.key \
    --load-ca-certificate int.pem --load-ca-privkey int.key \
    --template forged.tmpl --outfile forged.pem >/dev/null 2>&1
certtool --generate-privkey --key-type ecdsa --outfile fleaf.key \
    >/dev/null 2>&1
certtool --generate-certificate --load-privkey fleaf.key \
    --load-ca-certificate forged.pem --load-ca-privkey forged.key \
    --template leaf.tmpl --outfile fleaf.pem >/dev/null 2>&1
if [ -s fleaf.pem ]; then
	cat forged.pem int.pem > fchain.pem
	openssl verify -x509_strict -CAfile root.pem -untrusted fchain.pem \
	    fleaf.pem > fverify.txt 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q "path length" fverify.txt; then
		ok "openssl rejects a chain forged past pathlen 0"
	else
		not_ok "openssl rejects a chain forged past pathlen 0"
		diag fverify.txt
	fi
	cat fleaf.pem forged.pem int.pem > ffull.pem
	check_not "certtool rejects it too" certtool --verify \
	    --load-ca-certificate root.pem --infile ffull.pem
else
	not_ok "certtool could not forge the test chain"
fi

# Narrower constraints, a longer path, and validity clamped to the parent.
check "ca create with --pathlen 1, a narrower --permit, long --days" \
    $C ca create Team --parent Root --pathlen 1 --permit team.test \
    --permit 10.1.0.0/16 --days 36500
out_has "... says its path length on one line" \
    "^  path length  1 \(at most 1 CA below it\)$"
is "the child's validity is clamped to its parent's" \
    "$($C ca show Team --json | jget 'd["not_after"]')" \
    "$($C ca show Root --json | jget 'd["not_after"]')"
expect_fail 2 "^certmint: --permit 'example.com' is outside the name constraints of CA 'Root'$" \
    "a --permit outside the parent's constraints is refused" \
    $C ca create Wide --parent Root --permit example.com
expect_fail 2 "--permit '11.0.0.0/8' is outside the name constraints of CA 'Root'" \
    "an IP range outside the parent's is refused" \
    $C ca create Wide --parent Root --permit 11.0.0.0/8
expect_fail 2 "--permit '10.0.0.0/7' is outside" \
    "a wider IP range than the parent's is refused" \
    $C ca create Wide --parent Root --permit 10.0.0.0/7
expect_fail 2 "^certmint: --pathlen 1: CA 'Team' allows at most 0 below the new CA$" \
    "a child path length beyond the parent's is refused" \
    $C ca create Deep --parent Team --pathlen 1
check "a CA under a pathlen-1 CA" $C ca create Squad --parent Team
is "its path length is 0" "$($C ca show Squad --json | jget 'd["path_len"]')" 0
expect_fail 2 "outside the name constraints of CA 'Squad'" \
    "Team's constraints bind Squad (inherited)" \
    $C issue server www.app.test --ca Squad
check "issue two levels down" $C issue server api.team.test 10.1.9.9 \
    --ca Squad --chain chain3.pem --cert api.crt --key api.key
is "chain: two intermediates" "$(grep -c 'BEGIN CERTIFICATE' chain3.pem)" 2
check "openssl verify -x509_strict: leaf -> Squad -> Team -> root" \
    openssl verify -x509_strict -CAfile root.pem -untrusted chain3.pem api.crt
cat api.crt chain3.pem > full3.pem
check "certtool --verify agrees (3 levels)" certtool --verify \
    --load-ca-certificate root.pem --infile full3.pem

# Revoked CAs do not sign, nor do CAs below them.
expect_fail 2 "^certmint: certificate [0-9a-f]+ is a CA certificate" \
    "renew refuses a CA certificate" $C renew Squad
check "revoke Team (cACompromise)" $C revoke Team --reason cACompromise
expect_fail 2 "^certmint: CA 'Team' is revoked and cannot sign$" \
    "a revoked CA cannot issue" $C issue server x.team.test --ca Team
expect_fail 2 "^certmint: CA 'Squad' cannot sign: its issuer 'Team' is revoked$" \
    "a CA below a revoked CA cannot issue" \
    $C issue server y.team.test --ca Squad
expect_fail 2 "CA 'Team' is revoked and cannot sign" \
    "a revoked CA cannot make CAs" $C ca create Other --parent Team
check "the root still signs" $C issue server z.test --ca Root
$C ca show Team | grep -q "^state  *revoked (cACompromise, 20.*): cannot sign$" &&
    ok "ca show: the revoked state, reason and time" ||
    not_ok "ca show: the revoked state, reason and time"
$C ca show Int | grep -q "^state  *valid$" && ok "ca show: valid state" ||
    not_ok "ca show: valid state"
is "ca show --json: the revoked state, reason and time" \
    "$($C ca show Team --json | jget 'd["state"], d["revocation_reason"], d["revoked_at"][:2]')" \
    "revoked cACompromise 20"
is "ca list --json: each CA's state" \
    "$($C ca list --json | jget '" ".join(c["name"] + "=" + c["state"] for c in d["cas"] if c["name"] in ("Int", "Team"))')" \
    "Int=valid Team=revoked"

# Passphrases: the child's key is encrypted like its parent's.
export CERTMINT_STORE="$WORK/enc.db"
printf 'sekrit\n' > pass
check "encrypted root" $C init --name ERoot --passphrase-file pass
check "intermediate with the parent's passphrase" \
    $C ca create EInt --parent ERoot --passphrase-file pass
is "the intermediate's key is encrypted" \
    "$($C ca show EInt --json | jget 'd["encrypted"]')" "True"
expect_fail 4 "key is encrypted and no passphrase" \
    "no passphrase: the parent's key stays closed" \
    $C ca create EInt2 --parent ERoot
check "issue under the encrypted intermediate" \
    $C issue server e.test --ca EInt --passphrase-file pass
export CERTMINT_STORE="${CERTMINT_TEST_PG:-$WORK/store.db}"

# Status and expiries.
check "issue one expiring soon" $C issue server soon.app.test --ca Int --days 10
$C list --expiring 30d > exp.txt
grep -q "soon.app.test" exp.txt && ok "list --expiring 30d shows it" ||
    not_ok "list --expiring 30d shows it"
grep -q "www.app.test" exp.txt && not_ok "list --expiring leaves out others" ||
    ok "list --expiring leaves out others"
is "list --expiring 5d: nothing" "$($C list --expiring 5d | wc -l)" 0
check "status" $C status
grep -q "^Int  *Root  *valid" "$WORK/out" && ok "status: Int under Root, valid" ||
    not_ok "status: Int under Root, valid"
grep -q "^Team  *Root  *revoked" "$WORK/out" && ok "status: Team revoked" ||
    not_ok "status: Team revoked"
sed -n '/^Next expiries/{n;p;}' "$WORK/out" | grep -q "soon.app.test" &&
    ok "status: the soonest expiry first" || not_ok "status: the soonest expiry first"
grep -q "^CRLs due:" "$WORK/out" && ok "status: CRLs due section" ||
    not_ok "status: CRLs due section"
$C status --json > status.json
is "status --json: Int has 2 valid certificates" \
    "$(jget '[c["certificates"]["valid"] for c in d["cas"] if c["name"] == "Int"][0]' < status.json)" 2
is "status --json: Root counts its intermediates and z.test" \
    "$(jget '[c["certificates"] for c in d["cas"] if c["name"] == "Root"][0]' < status.json)" \
    "{'valid': 2, 'expired': 0, 'revoked': 1, 'superseded': 0}"
is "status --json: expiries sorted" \
    "$(jget 'all(a["not_after"] <= b["not_after"] for a, b in zip(d["next_expiries"], d["next_expiries"][1:]))' < status.json)" \
    "True"
is "status --json: the revoked Team is not among the next expiries of certificates" \
    "$(jget 'sum(1 for e in d["next_expiries"] if e["kind"] == "certificate" and e["name"] == "Team")' < status.json)" 0
is "status --next 2" "$($C status --json --next 2 | jget 'len(d["next_expiries"])')" 2
expect_fail 2 "--next 'x' is not a number" "status --next x" $C status --next x
check "status --help" $C status --help

done_testing
