#!/bin/sh
# certmint renew: same names, profile and CA, a new serial; the kept key or
# a new one; the old certificate superseded or revoked, never lost.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need sqlite3
need python3
C=$CERTMINT
cd "$WORK" || exit 1

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
pub() { openssl x509 -in "$1" -noout -pubkey; }
q() { sqlite3 "$CERTMINT_STORE" "$1"; }

check "renew --help" $C renew --help
grep -q "superseded" "$WORK/out" && ok "--help says what becomes of the old one" ||
    not_ok "--help says what becomes of the old one"
check "init" $C init --name Dev
$C ca show --pem > ca.pem
check "issue" $C issue client svc.test 10.0.0.1 --cert v1.crt --key v1.key
s1=$($C show svc.test --json | jget 'd["serial"]')

check "renew (same key)" $C renew svc.test --cert v2.crt --key v2.key --json
s2=$(jget 'd["serial"]' < "$WORK/out")
[ -n "$s2" ] && [ "$s2" != "$s1" ] && ok "a new serial" || not_ok "a new serial"
is "the same names" "$(jget 'd["names"]' < "$WORK/out")" "['svc.test', '10.0.0.1']"
is "the same profile" "$(jget 'd["profile"]' < "$WORK/out")" "client"
is "the same CA" "$(jget 'd["ca"]' < "$WORK/out")" "Dev"
is "without --rekey: the same public key" "$(pub v2.crt)" "$(pub v1.crt)"
is "the key file holds that key" "$(openssl pkey -in v2.key -pubout)" "$(pub v2.crt)"
check "openssl verify -x509_strict accepts the renewed one" \
    openssl verify -x509_strict -purpose sslclient -CAfile ca.pem v2.crt
is "the old one is superseded" "$($C show "$s1" --json | jget 'd["status"]')" \
    "superseded"
is "list --status superseded shows it" \
    "$($C list --status superseded --json | jget '[c["serial"] for c in d["certificates"]]')" \
    "['$s1']"
is "the name now leads to the new one" \
    "$($C show svc.test --json | jget 'd["serial"]')" "$s2"
is "superseded is not revoked: off the revoked list" \
    "$($C list --status revoked --json | jget 'len(d["certificates"])')" 0
expect_fail 2 "certificate $s1 was renewed already \\(superseded\\): renew its successor" \
    "renewing a superseded certificate again is refused" \
    $C renew "$s1" --cert v1b.crt --key v1b.key
check_not "... nothing written" test -e v1b.crt

check "renew --rekey" $C renew svc.test --rekey --cert v3.crt --key v3.key --json
s3=$(jget 'd["serial"]' < "$WORK/out")
[ "$(pub v3.crt)" != "$(pub v2.crt)" ] && ok "--rekey: a different public key" ||
    not_ok "--rekey: a different public key"
is "--rekey: the key file matches" "$(openssl pkey -in v3.key -pubout)" "$(pub v3.crt)"

check "renew --revoke-old" $C renew "$s3" --revoke-old --cert v4.crt \
    --key v4.key --json
s4=$(jget 'd["serial"]' < "$WORK/out")
is "--revoke-old: the old one is revoked" \
    "$($C show "$s3" --json | jget 'd["status"]')" "revoked"
is "--revoke-old: reason superseded" \
    "$($C show "$s3" --json | jget 'd["revocation_reason"]')" "superseded"
is "all four stay in the inventory" \
    "$($C list --name svc.test --json | jget 'len(d["certificates"])')" 4
is "events: three renewals, naming the old serial" \
    "$(q "SELECT count(*) FROM events WHERE action = 'renew' AND details LIKE '%old=%'")" 3
is "events: the revocation of the old one" \
    "$(q "SELECT details FROM events WHERE action = 'revoke' AND object = '$s3'")" \
    "reason=superseded by=$s4"
check "a superseded certificate can still be revoked" \
    $C revoke "$s1" --reason keyCompromise
check "renew by serial prefix" $C renew "$(printf %.8s "$s4")" --force \
    --cert v4.crt --key v4.key

# Refusals.
n0=$(q "SELECT count(*) FROM certs")
expect_fail 2 "v4.crt: file exists \\(use --force" \
    "existing files need --force" $C renew svc.test --cert v4.crt --key v5.key
check "issue without keeping the key" $C issue server nokey.test --no-keep-key
expect_fail 2 "^certmint: certificate [0-9a-f]+: its key was not kept in the store: renew with --rekey$" \
    "no kept key: say so, suggest --rekey" $C renew nokey.test --force
check "... and --rekey works" $C renew nokey.test --rekey --force
check "issue and revoke for keyCompromise" $C issue server leak.test
check "revoke leak.test" $C revoke leak.test --reason keyCompromise
expect_fail 2 "revoked for keyCompromise: renew with --rekey" \
    "a compromised key is not reused" $C renew leak.test --force
expect_fail 2 "^certmint: certificate 'nosuch' not found" "unknown certificate" \
    $C renew nosuch
expect_fail 2 "give one SERIAL or NAME" "no argument" $C renew
is "no row for any refused renewal" \
    "$(q "SELECT count(*) FROM certs")" "$((n0 + 3))"


# Only a profile's name is recorded: a certificate issued with a profile
# file is renewed with --profile FILE, which the error says; so is an
# imported one.
printf 'tls_www_server\nsigning_key\nexpiration_days = 30\n' >my3.tmpl
check "issue with a profile file" $C issue server t.test --profile ./my3.tmpl
expect_fail 2 "certificate [0-9a-f]+: profile 'my3' not found.*renew with --profile FILE" \
    "renew of a file-profile certificate says --profile FILE" $C renew t.test
check "renew --profile FILE" $C renew t.test --profile ./my3.tmpl --force --json
is "... the renewed one records the file's profile" \
    "$(jget 'd["profile"]' < "$WORK/out")" "my3"
check "renew --profile NAME switches the profile" \
    $C renew t.test --profile peer --force --json
is "... to peer" "$(jget 'd["profile"]' < "$WORK/out")" "peer"
expect_fail 2 "profile 'nope' not found" "renew --profile nope" \
    $C renew t.test --profile nope --force
check "renew --help documents --profile" $C renew --help
out_has "... with the file case" "--profile P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout xca.key -out xca.crt -days 30 -subj "/CN=Outside CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:imp.test\n' \
    >imp.cnf
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout imp.key -out imp.csr -subj "/CN=imp.test" 2>/dev/null
openssl x509 -req -in imp.csr -CA xca.crt -CAkey xca.key -CAcreateserial \
    -days 10 -out imp.crt -extfile imp.cnf 2>/dev/null
check "import the outside CA" $C import --cert xca.crt --key xca.key
check "import a certificate it issued" $C import --issued imp.crt
expect_fail 2 "was imported: imported certificates need --profile NAME\|FILE" \
    "renew of an imported certificate says --profile" $C renew imp.test
check "renew --profile server --rekey renews it" \
    $C renew imp.test --profile server --rekey --json
is "... as a server certificate" "$(jget 'd["profile"]' < "$WORK/out")" \
    "server"

# Renewing a revoked certificate: the new one is issued, the old one stays
# revoked with its own reason, and the report says so.
$C issue server gone.test --ca Dev --cert gone.crt --key gone.key \
    >/dev/null 2>&1
$C revoke gone.test --reason keyCompromise >/dev/null 2>&1
old=$($C show gone.test --json | jget 'd["serial"]')
check "renew of a revoked certificate (keyCompromise: --rekey)" \
    $C renew "$old" --rekey --cert gone2.crt --key gone2.key
cp "$WORK/out" "$WORK/renew.out"
check "... reports the old one revoked already" \
    grep -q "old          revoked already (unchanged)" "$WORK/renew.out"
is "... which keeps its reason" \
    "$($C show "$old" --json | jget 'd["status"], d.get("revocation_reason")')" \
    "revoked keyCompromise"

done_testing
