#!/bin/sh
# harness.sh - certmint test --cert: the default matrix for a server, a
# wildcard, a client and a peer certificate; reports that parse; twins that
# never reach the store; errors.
. "$top_srcdir/tests/cli/lib.sh"
need python3

C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 ::1 >/dev/null 2>&1
"$C" issue server '*.app.test' >/dev/null 2>&1
"$C" issue client alice@example.test >/dev/null 2>&1
"$C" issue peer node1.test >/dev/null 2>&1
"$C" issue server nokey.test --no-keep-key >/dev/null 2>&1
before=$("$C" list --json | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["certificates"]))')
cas=$("$C" ca list 2>/dev/null | wc -l)

# summary FILE: "total matched mismatched skipped" of a JSON report
summary() {
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))["summary"]
print(s["total"], s["matched"], s["mismatched"], s["skipped"])' "$1"
}

for cert in localhost '*.app.test' alice@example.test node1.test; do
	check "matrix for $cert: every scenario matches" \
	    "$C" test --cert "$cert"
	grep -q "MISMATCH" "$WORK/out" && not_ok "no MISMATCH row for $cert" ||
	    ok "no MISMATCH row for $cert"
	"$C" test --cert "$cert" --format json >"$WORK/r.json"
	check "JSON report for $cert parses (json.tool)" \
	    python3 -m json.tool "$WORK/r.json"
	set -- $(summary "$WORK/r.json")
	is "JSON summary for $cert: none mismatched or skipped" "$3 $4" "0 0"
	is "JSON summary for $cert: matched == total" "$2" "$1"
	"$C" test --cert "$cert" --format junit >"$WORK/r.xml"
	check "JUnit report for $cert parses and has no failure" python3 -c '
import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot().find("testsuite")
assert s.get("failures") == "0", s.attrib
assert int(s.get("tests")) == len(s.findall("testcase")) > 0
assert not s.findall("testcase/failure")' "$WORK/r.xml"
	"$C" test --cert "$cert" --format tap >"$WORK/r.tap"
	check "TAP report for $cert: plan matches, no 'not ok'" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
n = int(lines[0].split("..")[1])
tests = [l for l in lines if l.startswith(("ok ", "not ok "))]
assert len(tests) == n and n > 0
assert not [l for l in tests if l.startswith("not ok")]' "$WORK/r.tap"
done

# EdDSA: the twins of an Ed25519 or Ed448 certificate are signed with its
# own key too, without a digest (RFC 8410); README's peer example.
ed() { CERTMINT_STORE="$WORK/ed.db" "$C" "$@"; }
ed issue peer ed.test --key-type ed25519 >/dev/null 2>&1
ed init --name "Ed CA" --key-type ed25519 >/dev/null 2>&1
ed issue server ed448.test --key-type ed448 --ca "Ed CA" >/dev/null 2>&1
check "matrix for an Ed25519 peer certificate: every scenario matches" \
    ed test --cert ed.test
check "matrix for Ed448 under an Ed25519 CA: every scenario matches" \
    ed test --cert ed448.test

"$C" test --cert localhost --format json >"$WORK/s.json"
set -- $(summary "$WORK/s.json")
check "server certificate: at least 30 scenarios ($1)" test "$1" -ge 30
"$C" test --cert '*.app.test' --format json >"$WORK/w.json"
set -- $(summary "$WORK/w.json")
check "wildcard certificate: at least 30 scenarios ($1)" test "$1" -ge 30

# The classes the matrix must have produced, with their sides and fields.
check "matrix classes, sides, versions and fields" python3 -c '
import json, sys
r = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
want = {
  "tls13/name:localhost": ("ok", "none"),
  "tls12/ip:127.0.0.1": ("ok", "none"),
  "tls13/ip:::1": ("ok", "none"),
  "tls13/upper-case:LOCALHOST": ("ok", "none"),
  "tls12/sibling:xlocalhost": ("hostname", "client"),
  "tls13/wrong-ip:127.0.0.0": ("hostname", "client"),
  "tls13/ip-as-dns-san:127.0.0.1": ("hostname", "client"),
  "tls12/ip-checked-as-dns:127.0.0.1": ("ok", "none"),
  "tls13/untrusted-root": ("untrusted", "client"),
  "tls12/expired-twin": ("expired", "client"),
  "tls13/not-yet-valid-twin": ("not-yet-valid", "client"),
  "tls13/client-eku-twin": ("purpose", "client"),
  "tls12/name-constraints-twin": ("name-constraints", "client"),
  "tls13/request-client-cert-foreign": ("client-untrusted", "server"),
  "tls13/missing-intermediate": ("untrusted", "client"),
  "tls12/with-intermediate": ("ok", "none"),
  "version-mismatch": ("protocol", "server"),
}
assert not [n for n in r if "chain-missing" in n], "no intermediate here"
for n, (cls, side) in want.items():
    assert r[n]["actual"] == cls and r[n]["side"] == side, (n, r[n])
ok = r["tls13/name:localhost"]
assert ok["version"] == "TLS1.3" and ok["cipher"] and ok["group"], ok
assert r["tls12/name:localhost"]["version"] == "TLS1.2"
assert r["tls13/expired-twin"]["status"] != 0
assert all(s["match"] for s in r.values())' "$WORK/s.json"

"$C" test --cert '*.app.test' --format json >"$WORK/w.json"
check "wildcard: one label ok, parent and two labels are hostname" \
    python3 -c '
import json, sys
r = {s["name"]: s["actual"] for s in json.load(open(sys.argv[1]))["scenarios"]}
assert r["tls13/wildcard:www.app.test"] == "ok"
assert r["tls13/wildcard-parent:app.test"] == "hostname"
assert r["tls12/wildcard-two-level:a.b.app.test"] == "hostname"' "$WORK/w.json"

"$C" test --cert alice@example.test --format json >"$WORK/c.json"
check "client certificate: the mTLS set" python3 -c '
import json, sys
r = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
for v in ("tls12", "tls13"):
    assert r[v + "/mtls-ok"]["actual"] == "ok"
    assert r[v + "/mtls-ok"]["client_identity"].find("alice") >= 0
    assert r[v + "/mtls-none"]["actual"] == "no-client-cert"
    assert r[v + "/mtls-foreign-ca"]["actual"] == "client-untrusted"
    assert r[v + "/mtls-server-only-eku"]["actual"] == "client-purpose"
    assert r[v + "/mtls-expired"]["actual"] == "client-expired"
    assert r[v + "/mtls-expired"]["side"] == "server"
assert not [n for n in r if "name:" in n]' "$WORK/c.json"

check "TCP transport: the peer matrix matches too" \
    "$C" test --cert node1.test --transport tcp
check "--only keeps the named scenarios" "$C" test --cert localhost \
    --only untrusted --format tap
is "--only: two scenarios" "$(head -1 "$WORK/out")" "1..2"
expect_fail 2 "--only 'untrsted' matches none of the [0-9]+ scenarios" \
    "--only that matches nothing is an error, not a pass" \
    "$C" test --cert localhost --only untrsted

after=$("$C" list --json | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["certificates"]))')
is "twins never enter the store (certificates)" "$after" "$before"
is "no CA added by the harness" "$("$C" ca list 2>/dev/null | wc -l)" "$cas"

# Under an intermediate: the real chain without its intermediate too.
"$C" ca create Issuing --parent "certmint dev CA" >/dev/null 2>&1
"$C" issue server api.test --ca Issuing >/dev/null 2>&1
"$C" test --cert api.test --format json >"$WORK/i.json"
check "under an intermediate: served without it, untrusted" python3 -c '
import json, sys
r = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
for v in ("tls12", "tls13"):
    m = r[v + "/chain-missing-intermediate"]
    assert m["actual"] == "untrusted" and m["side"] == "client", m
    assert r[v + "/name:api.test"]["actual"] == "ok"
assert all(s["match"] for s in r.values())' "$WORK/i.json"

# Errors: exit code and one line naming the object.
expect_fail 2 "give --cert REF or scenario files" "no target" "$C" test
expect_fail 2 "certificate 'nosuch' not found" "unknown certificate" \
    "$C" test --cert nosuch
expect_fail 2 "key of certificate .* is not kept.*give it with --key FILE" \
    "key not kept" "$C" test --cert nokey.test
check "... with --key FILE (its key on disk), every scenario matches" \
    "$C" test --cert nokey.test --key nokey.test.key
expect_fail 2 "the key given is not the key of certificate" \
    "--key of another certificate" \
    "$C" test --cert nokey.test --key localhost.key
expect_fail 2 "--key goes with --cert" "--key without --cert" \
    "$C" test --key localhost.key some.scenarios
expect_fail 2 "report format 'xml' is unknown" "bad format" \
    "$C" test --cert localhost --format xml
expect_fail 2 "--transport 'udp': memory or tcp" "bad transport" \
    "$C" test --cert localhost --transport udp
expect_fail 2 "peer 'wget' is unknown" "bad peer" \
    "$C" test --cert localhost --peer wget
expect_fail 2 "curl can only be the client" "curl as server" \
    "$C" test --cert localhost --peer curl --peer-side server
# Keys kept encrypted under the CA passphrase.
echo "s3cret pass" >"$WORK/pf"
CERTMINT_STORE="$WORK/enc.db" "$C" init --passphrase-file "$WORK/pf" \
    >/dev/null 2>&1
CERTMINT_STORE="$WORK/enc.db" "$C" issue server enc.test \
    --passphrase-file "$WORK/pf" >/dev/null 2>&1
expect_fail 4 "key is encrypted and no passphrase was given: use --passphrase-file F or CERTMINT_PASSPHRASE" \
    "encrypted key without a passphrase, and how to give it" \
    env CERTMINT_STORE="$WORK/enc.db" "$C" test --cert enc.test
check "encrypted key with --passphrase-file" env \
    CERTMINT_STORE="$WORK/enc.db" "$C" test --cert enc.test \
    --passphrase-file "$WORK/pf"
check "test --help" "$C" test --help
grep -q "no-client-cert" "$WORK/out" && ok "help lists the classes" ||
    not_ok "help lists the classes"
done_testing
