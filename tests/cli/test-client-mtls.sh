#!/bin/sh
# test-client-mtls.sh - test client's mutual-TLS scenarios ({cert},
# {key}, CERTMINT_CLIENT_CERT/KEY), scenario files as the matrix, and the
# ephemeral CA that lives in memory (issue 13, item 1).
. "$top_srcdir/tests/cli/lib.sh"
need curl
need python3

CM="$CERTMINT"
cd "$WORK" || exit 1
CURL='curl -sS --max-time 8 --cacert {ca} --resolve {name}:{port}:{addr}'

# ---- an empty machine: nothing stored, nothing on disk ----
unset CERTMINT_STORE
# shellcheck disable=SC2086
"$CM" test client --format json -- $CURL --cert {cert} --key {key} {url} \
    >m.json 2>m.err
is "curl presenting {cert}/{key}: exit 0" "$?" 0
check "no store was made" test ! -e "$HOME/.local/share/certmint"
verdict() {
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = [s["verdict"] for s in d["scenarios"] if s["scenario"] == sys.argv[2]]
print(v[0] if v else "none")
PY
}
is "mtls-valid accepted with the identity" "$(verdict m.json mtls-valid)" accepted
is "mtls-untrusted-root rejected" "$(verdict m.json mtls-untrusted-root)" rejected

# A client that names the identity but does not present it.
"$CM" test client --only mtls -- sh -c \
    ": \"\$CERTMINT_CLIENT_CERT\"; exec curl -sS --max-time 8 --cacert \"\$CERTMINT_CA\" --resolve \"\$CERTMINT_NAME:\$CERTMINT_PORT:127.0.0.1\" \"\$CERTMINT_URL\"" \
    >n.out 2>n.err
is "a client that does not present its certificate: exit 1" "$?" 1
check "... mtls-valid named as rejected" grep -q "^FAIL mtls-valid: the client rejected" n.err

# The key file is private; both files are where the environment says.
"$CM" test client --only mtls-valid -- sh -c \
    'test "$(stat -c %a "$CERTMINT_CLIENT_KEY")" = 600 && grep -q "BEGIN CERTIFICATE" "$CERTMINT_CLIENT_CERT" && exec curl -sS --max-time 8 --cacert "$CERTMINT_CA" --cert "$CERTMINT_CLIENT_CERT" --key "$CERTMINT_CLIENT_KEY" --resolve "$CERTMINT_NAME:$CERTMINT_PORT:127.0.0.1" "$CERTMINT_URL"' \
    >e.out 2>e.err
is "CERTMINT_CLIENT_CERT/KEY: the files, the key 0600: exit 0" "$?" 0

# The example client with load_cert_chain.
"$CM" test client --only mtls -- python3 "$top_srcdir/examples/clients/secure.py" \
    {addr} {port} {name} {ca} {cert} {key} >p.out 2>p.err
is "examples/clients/secure.py with {cert} {key}: exit 0" "$?" 0

# Without {cert} in the command line: no mutual-TLS rows.
# shellcheck disable=SC2086
"$CM" test client --format json -- $CURL {url} >plain.json 2>/dev/null
is "a command without {cert}: exit 0" "$?" 0
is "... and no mtls rows" "$(verdict plain.json mtls-valid)" none

# ---- the seeds' weak leaves: RSA-1024, SHA-1 (warnings) ----
# shellcheck disable=SC2086
"$CM" test client --only -leaf --format json -- $CURL {url} >w.json 2>w.err
is "curl refuses the RSA-1024 and SHA-1 leaves: exit 0" "$?" 0
is "... sha1-signed-leaf rejected" "$(verdict w.json sha1-signed-leaf)" rejected
is "... rsa1024-leaf rejected" "$(verdict w.json rsa1024-leaf)" rejected
"$CM" test client --only -leaf -- python3 "$top_srcdir/examples/clients/insecure.py" \
    {addr} {port} {name} >wi.out 2>wi.err
is "the insecure example takes them: a warning, exit 0" "$?" 0
"$CM" test client --only -leaf --strict -- python3 \
    "$top_srcdir/examples/clients/insecure.py" {addr} {port} {name} \
    >ws.out 2>ws.err
is "... with --strict: exit 1" "$?" 1
check "... naming the SHA-1 leaf" grep -q "^FAIL sha1-signed-leaf: the client accepted a certificate signed with SHA-1" ws.err
check "... and the RSA-1024 leaf" grep -q "^FAIL rsa1024-leaf: the client accepted a certificate with an RSA-1024 key" ws.err

# ---- scenario files as the matrix ----
export CERTMINT_STORE="$WORK/store.db"
"$CM" issue server localhost >/dev/null 2>&1
"$CM" ca show --pem >ca.pem
cat >my.scn <<'SCN'
[defaults]
trust = ca.pem
server_key = localhost.key

[scenario good]
server_cert = localhost.crt
name = localhost
expect = ok

[scenario wrong-name]
server_cert = localhost.crt
name = other.test
expect = hostname
SCN
# shellcheck disable=SC2086
"$CM" test client my.scn -- $CURL {url} >f.out 2>f.err
is "scenario file, a verifying curl: exit 0" "$?" 0
check "... both scenarios ran" sh -c 'grep -q "^good " f.out && grep -q "^wrong-name " f.out'
"$CM" test client my.scn -- curl -k -sS --max-time 8 \
    --resolve {name}:{port}:{addr} {url} >k.out 2>k.err
is "scenario file, curl -k: exit 1" "$?" 1
check "... naming wrong-name as accepted" grep -q "^FAIL wrong-name: the client accepted" k.err
printf '[scenario x]\nnope = 1\n' >bad.scn
expect_fail 2 "bad.scn:2: unknown key 'nope'" "a bad scenario file: exit 2, its line" \
    "$CM" test client bad.scn -- curl {url}
expect_fail 2 "exclude each other" "--cert and a file: exit 2" \
    "$CM" test client --cert localhost my.scn -- curl {url}

done_testing
