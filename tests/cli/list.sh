#!/bin/sh
# list.sh - certmint list (table, --json, filters) and certmint show.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need sqlite3
need python3
need openssl
C=$CERTMINT
S=$CERTMINT_STORE
cd "$WORK" || exit 1

# jq-less JSON checks: pyj FILE EXPR (EXPR sees d, the parsed document).
pyj() { python3 -c "import json,sys; d = json.load(open('$1')); $2"; }
serial_of() { sqlite3 "$S" "select c.serial from certs c join cert_names n
    on n.cert_id = c.id and n.pos = 0 where n.name = '$1'
    order by c.id desc limit 1"; }

check "init the main CA" $C init --name Main
check "init a second CA" $C init --name Second --key-type ed25519
check "issue server (Main)" $C issue server web.test 127.0.0.1 --ca Main
check "issue client (Main)" $C issue client alice@corp.test --ca Main
check "issue peer (Second)" $C issue peer node.test --ca Second
check "issue a 10-day server (Main)" $C issue server short.test --days 10 \
    --ca Main
check "issue one to expire (Main)" $C issue server old.test --ca Main
check "issue one to revoke (Second)" $C issue server gone.test --ca Second
# The CLI has no clock flag and no revoke command yet: age and revoke
# through the store, the way time and 'certmint revoke' would.
sqlite3 "$S" "update certs set not_before = strftime('%s','now') - 400*86400,
    not_after = strftime('%s','now') - 86400 where serial = '$(serial_of old.test)';
    update certs set status = 'revoked', revoked_at = strftime('%s','now')
    where serial = '$(serial_of gone.test)'"

# The table.
check "list" $C list
out_has "table header" '^SERIAL +STATUS +PROFILE +NOT AFTER +ACME +NAMES'
is "one line per certificate plus the header" "$(wc -l <"$WORK/out.prev")" 7
check "the table names web.test with its IP" \
    grep -Eq 'valid +server .*web\.test,127\.0\.0\.1$' "$WORK/out.prev"
check "the table shows the expired one" \
    grep -Eq 'expired +server .*old\.test$' "$WORK/out.prev"
check "the table shows the revoked one" \
    grep -Eq 'revoked +server .*gone\.test$' "$WORK/out.prev"

# --json.
check "list --json" sh -c "$C list --json >'$WORK/all.json'"
check "--json: {certificates: [...]}, six entries" \
    pyj "$WORK/all.json" "assert len(d['certificates']) == 6, d"
check "--json: every documented field in every entry" pyj "$WORK/all.json" "
for c in d['certificates']:
    for k in ('serial', 'names', 'subject', 'profile', 'key_type',
              'not_before', 'not_after', 'status', 'ca'):
        assert k in c and c[k] not in (None, ''), (k, c)
    assert isinstance(c['names'], list)
    int(c['serial'], 16)"
ws=$(serial_of web.test)
check "--json: web.test in full" pyj "$WORK/all.json" "
c = [c for c in d['certificates'] if c['serial'] == '$ws'][0]
assert c['names'] == ['web.test', '127.0.0.1'], c
assert c['profile'] == 'server' and c['key_type'] == 'ec-p256', c
assert c['ca'] == 'Main' and c['status'] == 'valid', c
assert 'CN=web.test' in c['subject'], c
import datetime
nb = datetime.datetime.strptime(c['not_before'], '%Y-%m-%dT%H:%M:%SZ')
na = datetime.datetime.strptime(c['not_after'], '%Y-%m-%dT%H:%M:%SZ')
assert (na - nb).days == 397, (nb, na)"
check "--json: the peer is Second's" \
    pyj "$WORK/all.json" "
c = [c for c in d['certificates'] if c['names'] == ['node.test']][0]
assert c['ca'] == 'Second' and c['profile'] == 'peer', c"

# Filters.
names() { sh -c "$C list --json $*" | python3 -c "import json,sys
print(' '.join(sorted(c['names'][0]
    for c in json.load(sys.stdin)['certificates'])))"; }
is "--status valid" "$(names --status valid)" \
    "alice@corp.test node.test short.test web.test"
is "--status expired" "$(names --status expired)" "old.test"
is "--status revoked" "$(names --status revoked)" "gone.test"
is "--ca Second" "$(names --ca Second)" "gone.test node.test"
is "--ca Main --status valid" "$(names --ca Main --status valid)" \
    "alice@corp.test short.test web.test"
is "--name web.test" "$(names --name web.test)" "web.test"
is "--name finds a second name (127.0.0.1)" "$(names --name 127.0.0.1)" \
    "web.test"
is "--name with no match" "$(names --name nowhere.test)" ""
CERTMINT_STORE="$WORK/v6.db" $C issue server v6.test ::1 >/dev/null 2>&1
is "--name 0:0::1 finds ::1 (addresses compare as addresses)" \
    "$(CERTMINT_STORE="$WORK/v6.db" $C list --name 0:0:0:0:0:0:0:1 --json |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["certificates"]))')" 1
# DNS names, as show finds them, and an email's domain match without
# case; an email's local part does not (RFC 5280 7.5).
is "--name WEB.TEST finds web.test" "$(names --name WEB.TEST)" "web.test"
check "... as show does" $C show WEB.TEST
is "--name alice@CORP.Test: the domain without case" \
    "$(names --name alice@CORP.Test)" "alice@corp.test"
is "--name ALICE@corp.test: the local part with case" \
    "$(names --name ALICE@corp.test)" ""
is "--expiring 30d: the 10-day certificate only" \
    "$(names --expiring 30d)" "short.test"
is "--expiring 5d: none" "$(names --expiring 5d)" ""
is "--expiring 400d: every valid one" "$(names --expiring 400d)" \
    "alice@corp.test node.test short.test web.test"
check "--expiring 2w works as 14 days" $C list --expiring 2w
out_has "... and lists short.test" short.test
expect_fail 2 "'--ca'|CA 'nope'" "list --ca nope: an unknown CA" \
    $C list --ca nope
expect_fail 2 "--expiring 'soon'" "list --expiring soon" \
    $C list --expiring soon
expect_fail 2 "status 'bogus'" "list --status bogus" $C list --status bogus
expect_fail 2 "unexpected argument 'web.test'" "list web.test" \
    $C list web.test

# show: by serial, by prefix, by name; --pem, --json.
check "show by serial" $C show "$ws"
out_has "show: serial" "^serial +$ws\$"
check "show: names" grep -Eq '^names +web\.test 127\.0\.0\.1$' "$WORK/out.prev"
check "show: CA" grep -Eq '^CA +Main$' "$WORK/out.prev"
check "show: status" grep -Eq '^status +valid$' "$WORK/out.prev"
check "show by 8-digit serial prefix" $C show "$(echo "$ws" | cut -c1-8)"
out_has "... the same certificate" "^serial +$ws\$"
check "show by upper-case serial" $C show "$(echo "$ws" | tr a-f A-F)"
out_has "... the same certificate" "^serial +$ws\$"
check "show by 0x-prefixed serial (openssl x509 -serial's hex)" \
    $C show "0x$(echo "$ws" | tr a-f A-F)"
out_has "... the same certificate" "^serial +$ws\$"
wfp=$($C show "$ws" --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["fingerprint_sha256"])')
check "show by SHA-256 fingerprint" $C show "$wfp"
out_has "... the same certificate" "^serial +$ws\$"
check "show by name" $C show web.test
out_has "... the same certificate" "^serial +$ws\$"
check "show --pem" sh -c "$C show web.test --pem >'$WORK/web.pem'"
openssl x509 -in web.test.crt -outform DER -out "$WORK/a.der"
openssl x509 -in "$WORK/web.pem" -outform DER -out "$WORK/b.der"
check "show --pem is the certificate issue wrote" cmp "$WORK/a.der" \
    "$WORK/b.der"
check "show --json" sh -c "$C show alice@corp.test --json >'$WORK/a.json'"
check "show --json fields" pyj "$WORK/a.json" "
assert d['names'] == ['alice@corp.test'] and d['profile'] == 'client', d
assert d['status'] == 'valid' and d['ca'] == 'Main', d"
check "show the expired one says so" $C show old.test --json
out_has "... status expired" '"status": "expired"'
expect_fail 2 "'nowhere\.test' not found" "show an unknown name" \
    $C show nowhere.test
expect_fail 2 "'0123456789abcdef' not found|not found" \
    "show an unknown serial" $C show 0123456789abcdef
expect_fail 2 "one SERIAL or NAME" "show with no argument" $C show
expect_fail 2 "exclude" "show --pem --json" $C show web.test --pem --json
# Two serials sharing a prefix: a prefix is not a guess.
sqlite3 "$S" "update certs set serial = 'abcd1' || substr(serial, 6) where
    serial = '$(serial_of short.test)'; update certs set serial = 'abcd2' ||
    substr(serial, 6) where serial = '$(serial_of alice@corp.test)'"
expect_fail 2 "'abcd'.*(ambiguous|several|matches)" "an ambiguous prefix" \
    $C show abcd
check "a longer prefix is unique again" $C show abcd1
out_has "... short.test" short.test
# A URI matches exactly.
check "issue a client with a URI" $C issue client spiffe://corp.test/Svc \
    --ca Main --cert "$WORK/u.crt" --key "$WORK/u.key"
is "--name URI, exactly" "$(names --name spiffe://corp.test/Svc)" \
    "spiffe://corp.test/Svc"
is "--name URI in another case: no match" \
    "$(names --name spiffe://corp.test/svc)" ""
check "list --help" $C list --help
check "show --help" $C show --help
# No match (issue 14, item 8): stdout stays empty, one line on stderr says
# so, exit 0; --json gives an empty array.
$C list --name nosuch.test --ca Main >nm.out 2>nm.err
is "list with no match: exit 0" "$?" 0
is "... stdout empty" "$(wc -c <nm.out)" 0
is "... one line on stderr naming the filters" "$(cat nm.err)" \
    "certmint: no certificate matches --name nosuch.test --ca Main"
check "list --json with no match" $C list --status superseded --json
cp "$WORK/out" nm.json
check "... is {\"certificates\": []}" pyj nm.json \
    'assert d == {"certificates": []}, d'
is "... and nothing on stderr" "$(wc -c <"$WORK/err")" 0
$C --store "$WORK/empty.db" init --name E >/dev/null 2>&1
$C --store "$WORK/empty.db" list >nm.out 2>nm.err
is "an empty store: exit 0, says so" "$?:$(cat nm.err)" \
    "0:certmint: the store holds no certificate"
expect_fail 2 "certificate '3cf' not found \\(give a serial, a serial prefix of 4 digits or more, or a first name\\)" \
    "show with a 3-digit prefix says prefixes need 4" $C show 3cf
done_testing
