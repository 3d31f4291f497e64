#!/bin/sh
# harness-scenario.sh - scenario files: the examples, PEM files, store
# references, a deliberate mismatch, and the strict parser's errors.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl

C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 ::1 >/dev/null 2>&1
"$C" issue client alice@example.test >/dev/null 2>&1
"$C" ca show --pem >ca.crt

check "examples/scenarios run and match" \
    "$C" test "$top_srcdir/examples/scenarios/basic.scn" \
    "$top_srcdir/examples/scenarios/mtls.scn"
grep -q "11 scenarios: 11 matched" "$WORK/out" && ok "11 example scenarios" ||
    { not_ok "11 example scenarios"; diag "$WORK/out"; }

# Files only, relative to the scenario file; a foreign root from openssl.
mkdir sub
cp localhost.crt localhost.key ca.crt sub/
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=other -days 2 -keyout sub/other.key -out sub/other.crt \
    >/dev/null 2>&1
cat >sub/files.scn <<'SCN'
# relative paths
[defaults]
server_cert = localhost.crt
server_key = localhost.key
name = localhost

[scenario files-ok]
trust = ca.crt
expect = ok

[scenario files-untrusted]
trust = file:other.crt
expect = untrusted

[scenario files-wrong-expectation]
trust = ca.crt
name = 127.0.0.2
expect = ok
SCN
"$C" test sub/files.scn --format json >"$WORK/f.json"
is "a mismatch exits 1" "$?" "1"
check "JSON: two match, the wrong expectation is reported" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = {s["name"]: s for s in d["scenarios"]}
assert r["files-ok"]["match"] and r["files-untrusted"]["match"]
w = r["files-wrong-expectation"]
assert not w["match"] and w["actual"] == "hostname" and w["expected"] == "ok"
assert d["summary"] == {"total": 3, "matched": 2, "mismatched": 1,
    "skipped": 0}, d["summary"]' "$WORK/f.json"
"$C" test sub/files.scn --format tap >"$WORK/f.tap"
grep -q "^not ok 3 - files-wrong-expectation: expected ok, got hostname" \
    "$WORK/f.tap" && ok "TAP names the mismatch" || not_ok "TAP names the mismatch"

# Without a store, files still work; store references do not.
check "no store needed for file scenarios" env \
    CERTMINT_STORE="$WORK/none/x.db" "$C" test --only files-ok sub/files.scn

# Strict parser: one line, FILE:LINE, exit 2.
bad() {
	printf '%b' "$2" >"$WORK/bad.scn"
	expect_fail 2 "$3" "$1" "$C" test "$WORK/bad.scn"
}
bad "unknown key" '[scenario a]\nserver_cert = cert:localhost\nclientcert = x\n' \
    "bad.scn:3: unknown key 'clientcert'"
bad "no '='" '[scenario a]\nserver_cert\n' "bad.scn:2: expected 'key = value'"
bad "key outside a section" 'trust = ca.crt\n' \
    "bad.scn:1: key 'trust' outside a section"
bad "unknown section" '[scenarios a]\n' "bad.scn:1: unknown section '\[scenarios a\]'"
bad "duplicate scenario" '[scenario a]\n[scenario a]\n' \
    "bad.scn:2: scenario 'a' is defined twice"
bad "duplicate key" '[scenario a]\nname = x\nname = y\n' \
    "bad.scn:3: key 'name' given twice"
bad "bad class" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nexpect = fine\n' \
    "bad.scn:4: outcome 'fine' is unknown"
bad "missing expect" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\n' \
    "bad.scn:1: scenario 'a': expect is missing"
bad "missing server_cert" '[scenario a]\ntrust = x\nexpect = ok\n' \
    "bad.scn:1: scenario 'a': server_cert is missing"
bad "bad client_auth" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nclient_auth = maybe\nexpect = ok\n' \
    "bad.scn:4: client_auth 'maybe': none, request or require"
bad "client_auth without client_trust" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nclient_auth = require\nexpect = ok\n' \
    "bad.scn:1: scenario 'a': client_auth needs client_trust"
bad "unknown certificate" '[scenario a]\nserver_cert = cert:nosuch\n' \
    "bad.scn:2: certificate 'nosuch' not found"
bad "bad version" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nversion = ssl3\nexpect = ok\n' \
    "bad.scn:4: version 'ssl3': tls1.2, tls1.3 or any"
bad "empty file" '# nothing\n' "bad.scn: no \[scenario NAME\] section"
bad "bad priority" '[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\npriority = NORMAL:+BOGUS\nexpect = ok\n' \
    "priority 'NORMAL:\+BOGUS' is invalid"
expect_fail 2 "nosuch.scn" "missing file" "$C" test "$WORK/nosuch.scn"
# Files named by trust/server_cert/client_cert must hold PEM certificates:
# "trust = /etc/shadow" ran (issue 14, item 7).
printf 'root:x:0:0\n' >"$WORK/notpem.txt"
bad "trust is not PEM" "[scenario a]\nserver_cert = cert:localhost\ntrust = $WORK/notpem.txt\nexpect = ok\n" \
    "bad.scn:3: trust '$WORK/notpem.txt' is not a file of PEM certificates"
if [ -r /etc/shadow ]; then
	bad "trust = /etc/shadow" '[scenario a]\nserver_cert = cert:localhost\ntrust = /etc/shadow\nexpect = ok\n' \
	    "bad.scn:3: trust '/etc/shadow' is not a file of PEM certificates"
else
	bad "trust = /etc/shadow" '[scenario a]\nserver_cert = cert:localhost\ntrust = /etc/shadow\nexpect = ok\n' \
	    "bad.scn:3: .*/etc/shadow"
fi
bad "client_trust is not PEM" "[scenario a]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nclient_auth = require\nclient_trust = file:$WORK/notpem.txt\nexpect = ok\n" \
    "bad.scn:5: client_trust '$WORK/notpem.txt' is not a file of PEM certificates"
bad "server_cert file is not PEM" "[scenario a]\nserver_cert = file:$WORK/notpem.txt\n" \
    "bad.scn:2: server_cert '$WORK/notpem.txt' is not a file of PEM certificates"

# JUnit escapes what a scenario name may carry: markup and quotes stay
# text, a mismatch becomes a <failure> that python's parser reads back.
printf '[scenario a<b&"c'"'"'>]\nserver_cert = cert:localhost\ntrust = ca:certmint dev CA\nname = localhost\nexpect = hostname\n' \
    >"$WORK/esc.scn"
"$C" test "$WORK/esc.scn" --format junit >"$WORK/esc.xml" 2>/dev/null
is "a mismatching scenario exits 1" "$?" 1
check "its JUnit XML parses, with the name intact and one failure" \
    python3 -c '
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]).getroot()
c = t.find("testsuite/testcase")
assert c.get("name") == "a<b&\"c'"'"'>", c.get("name")
f = c.find("failure")
assert f is not None and "expected hostname, got ok" in f.get("message")
' "$WORK/esc.xml"
done_testing
