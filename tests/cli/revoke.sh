#!/bin/sh
# certmint revoke: every RFC 5280 reason, --at, list --status revoked with
# reason and time, the events table, refusals.
. "$top_srcdir/tests/cli/lib.sh"
need sqlite3
need python3
C=$CERTMINT
cd "$WORK" || exit 1

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
q() { sqlite3 "$CERTMINT_STORE" "$1"; }

check "revoke --help" $C revoke --help
grep -q "cessationOfOperation" "$WORK/out" && ok "--help lists the reasons" ||
    not_ok "--help lists the reasons"
check "init" $C init --name Dev
reasons="unspecified keyCompromise cACompromise affiliationChanged superseded
cessationOfOperation certificateHold privilegeWithdrawn aACompromise"
# DNS names are kept in lower case: r1.test, r2.test, ...
i=0
for r in $reasons; do
	i=$((i + 1))
	$C issue server "r$i.test" >/dev/null 2>&1 || not_ok "issue r$i.test"
	check "revoke --reason $r" $C revoke "r$i.test" --reason "$r"
	grep -q "reason  *$r$" "$WORK/out" && ok "$r: printed" ||
	    not_ok "$r: printed"
done
$C list --status revoked --json > rev.json
i=0
for r in $reasons; do
	i=$((i + 1))
	is "list --json: $r" \
	    "$(jget "[c['revocation_reason'] for c in d['certificates'] if c['names'][0] == 'r$i.test'][0]" < rev.json)" "$r"
done
is "list --json: every one has revoked_at" \
    "$(jget 'all(c["revoked_at"] for c in d["certificates"])' < rev.json)" True
$C list --status revoked > rev.txt
head -1 rev.txt | grep -q "REASON  *REVOKED AT" && ok "table: reason and time columns" ||
    not_ok "table: reason and time columns"
grep -q "privilegeWithdrawn  *20[0-9-]*T[0-9:]*Z  *r8.test" rev.txt &&
    ok "table: a row shows reason and time" || not_ok "table: a row shows reason and time"
is "events: one revoke row per revocation, with its reason" \
    "$(q "SELECT group_concat(details, ' ') FROM (SELECT details FROM events WHERE action = 'revoke' ORDER BY id) e")" \
    "$(for r in $reasons; do printf 'reason=%s ' "$r"; done | sed 's/ $//')"
is "list --json of a valid certificate: no reason" \
    "$($C issue server ok.test --json >/dev/null; $C list --status valid --json | jget 'd["certificates"][0]["revocation_reason"]')" \
    "None"

# --at, and the default reason.  A revocation time lies between the
# certificate's notBefore (its issuance: now) and now.
check "issue three" sh -c "$C issue server at1.test && $C issue server at2.test && $C issue server at3.test"
t1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "revoke --at RFC 3339" $C revoke at1.test --at "$t1"
is "revoked_at as given" "$($C show at1.test --json | jget 'd["revoked_at"]')" \
    "$t1"
is "default reason: unspecified" \
    "$($C show at1.test --json | jget 'd["revocation_reason"]')" "unspecified"
expect_fail 2 "revocation time 2026-03-04T00:00:00Z is before its notBefore" \
    "revoke --at a date (midnight UTC) before the certificate existed" \
    $C revoke at2.test --at 2026-03-04
expect_fail 2 "revocation time 2099-01-01T00:00:00Z is in the future" \
    "revoke --at in the future" $C revoke at2.test --at 2099-01-01
expect_fail 2 "is in the future" "revoke --at far beyond any CRL's time" \
    $C revoke at2.test --at @99999999999999
is "... at2.test is still valid" \
    "$($C show at2.test --json | jget 'd["status"]')" "valid"
check "... and publishes a CRL" $C crl --out at.crl
t3=$(date +%s)
check "revoke --at @seconds" $C revoke at3.test --at "@$t3"
is "epoch seconds" "$(q "SELECT revoked_at FROM certs WHERE cn = 'at3.test'")" \
    "$t3"
check "issue one more" $C issue server at4.test
t4=$(date +%s)
check "revoke --at with an offset (+01:00), as verify --at takes it" \
    $C revoke at4.test --at "$(date -u -d "@$((t4 + 3600))" +%Y-%m-%dT%H:%M:%S+01:00)"
is "... the same instant" \
    "$(q "SELECT revoked_at FROM certs WHERE cn = 'at4.test'")" "$t4"

# Refusals.
expect_fail 2 "^certmint revoke: reason 'bogus' is unknown" "unknown reason" \
    $C revoke ok.test --reason bogus
# removeFromCRL only undoes a certificateHold in a delta CRL (RFC 5280
# 5.3.1): in a complete CRL OpenSSL read the certificate as not revoked
# while GnuTLS and the store said revoked (issue 14, item 7).
expect_fail 2 "^certmint: reason removeFromCRL undoes a certificateHold in a delta CRL \(RFC 5280 5\.3\.1\); certmint revokes for good: give another reason$" \
    "removeFromCRL is refused" $C revoke ok.test --reason removeFromCRL
is "... ok.test stays valid" "$($C show ok.test --json | jget 'd["status"]')" valid
$C revoke --help | grep -q "not removeFromCRL" && ok "--help: not removeFromCRL" ||
    not_ok "--help: not removeFromCRL"
expect_fail 2 "^certmint revoke: --at 'yesterday' is not a time" "bad --at" \
    $C revoke ok.test --at yesterday
expect_fail 2 "^certmint: certificate [0-9a-f]+ is revoked already$" \
    "revoking twice" $C revoke r2.test
expect_fail 2 "^certmint: certificate 'nosuch.test' not found" "unknown" \
    $C revoke nosuch.test
expect_fail 2 "give one SERIAL or NAME" "no argument" $C revoke
expect_fail 2 "^certmint: CA 'Dev' is a root: it cannot be revoked" \
    "a root CA cannot be revoked" $C revoke Dev
is "ok.test is still valid" "$($C show ok.test --json | jget 'd["status"]')" valid

done_testing
