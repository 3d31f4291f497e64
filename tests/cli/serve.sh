#!/bin/sh
# serve.sh - certmint serve, the online CA (issue 15, first part): HTTPS
# on loopback with a certificate of the store's CA, CA certificates, CRLs
# fresh on revocation, OCSP, ACME directory / newNonce / newAccount, and
# the hostile input issue 15 lists (replayed nonce, alg none, HS256, a
# wrong url, a 1 MiB body...), each the right ACME error with nothing
# stored; request logs, SIGTERM, bad options.  Servers listen on
# 127.0.0.1 only and stop by themselves (--timeout) or by SIGTERM.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need curl
need openssl
need sqlite3
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"

. "$top_srcdir/tests/cli/serve-lib.sh"
accounts() { sqlite3 "$S" 'SELECT count(*) FROM acme_accounts'; }

# ---- an empty store: the dev CA is made, the bundle printed ----
serve_start s1.out --listen 127.0.0.1:0 --http-listen 127.0.0.1:0
check "serve on an empty store prints its ACME directory" test -n "$DIR"
check "... made the dev CA and said so" grep -q "created CA 'certmint dev CA'" s1.out.err
check "... wrote the CA bundle beside the store" test -s "$BUNDLE"
CAE="certmint%20dev%20CA"
check "HTTPS verifies with the bundle (curl --cacert)" \
    curl -fsS --cacert "$BUNDLE" -o dir.json "$DIR"
check "the directory names newNonce, newAccount, newOrder" python3 -c "
import json; d = json.load(open('dir.json'))
assert all(k in d for k in ('newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange'))"
curl -fsS --cacert "$BUNDLE" -I "$HTTPS/acme/$CAE/new-nonce" >nonce.h
check "newNonce (HEAD): a Replay-Nonce, no-store" sh -c \
    "grep -qi '^Replay-Nonce: [A-Za-z0-9_-]\{16,\}' nonce.h && grep -qi '^Cache-Control: no-store' nonce.h"
code=$(curl -sS --cacert "$BUNDLE" -o /dev/null -w '%{http_code}' "$HTTPS/acme/$CAE/new-nonce")
is "newNonce (GET): 204" "$code" 204
# The floor: TLS 1.1 is refused.
check_not "an openssl s_client -tls1_1 gets no connection" sh -c \
    "echo | openssl s_client -connect ${HTTPS#https://} -tls1_1 -cipher DEFAULT:@SECLEVEL=0 >/dev/null 2>&1"

# ---- CA certificate, CRL fresh on revocation, OCSP ----
curl -fsS "$HTTP/ca/$CAE.pem" -o ca.pem
check "/ca/NAME.pem over HTTP is the CA" cmp -s ca.pem "$BUNDLE"
curl -fsS "$HTTP/ca/$CAE.crt" -o ca.der
check "/ca/NAME.crt is its DER" sh -c "openssl x509 -inform DER -in ca.der -noout -subject | grep -q 'certmint dev CA'"
"$CM" issue server app.test >/dev/null 2>&1
SERIAL=$("$CM" show app.test --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')
"$CM" revoke app.test --reason keyCompromise >/dev/null 2>&1
curl -fsS "$HTTP/crl/$CAE.crl" -o now.crl
check "the CRL, fetched after the revocation, lists it" sh -c \
    "openssl crl -inform DER -in now.crl -noout -text | tr 'A-Z' 'a-z' | grep -q 'serial number: $SERIAL'"
check "... and verifies against the CA" \
    openssl crl -inform DER -in now.crl -CAfile ca.pem -noout
# Its nextUpdate lies ahead (it was 1970: a span taken for a date).
nu=$(openssl crl -inform DER -in now.crl -noout -nextupdate | cut -d= -f2)
check "... and its nextUpdate is in the future ($nu)" \
    test "$(date -d "$nu" +%s)" -gt "$(date +%s)"
check "openssl verify -crl_check takes the served CRL (not expired)" sh -c \
    "openssl crl -inform DER -in now.crl -out now.pem && openssl verify -crl_check -CAfile ca.pem -CRLfile now.pem app.test.crt 2>&1 | grep -q 'certificate revoked'"
openssl ocsp -issuer ca.pem -cert app.test.crt -url "$HTTP/ocsp" -CAfile ca.pem \
    >ocsp.out 2>&1
check "OCSP through serve says revoked" grep -q "app.test.crt: revoked" ocsp.out
is "... and its renewalInfo window (RFC 9773) has moved to now" "$(python3 - "$DIR" "$BUNDLE" app.test.crt <<'PY'
import base64, datetime, json, ssl, sys, urllib.request
from cryptography import x509
ctx = ssl.create_default_context(cafile=sys.argv[2])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
d = json.load(urllib.request.urlopen(sys.argv[1], context=ctx))
c = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
sn = c.serial_number.to_bytes((c.serial_number.bit_length() + 8) // 8, "big")
w = json.load(urllib.request.urlopen(d["renewalInfo"].rstrip("/") + "/" + b64(aki) + "." + b64(sn), context=ctx))["suggestedWindow"]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(t(w["start"]) <= datetime.datetime.now(datetime.timezone.utc) <= t(w["end"]))
PY
)" "True"

# ---- ACME newAccount, and hostile input: the right error, nothing stored ----
is "newAccount: 201 with the account URL" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" account | cut -d' ' -f1-2)" "201 -"
is "... recorded in the store" "$(accounts)" 1
is "the same key again: 200, the same account" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" account-twice | cut -d' ' -f1-2)" "200 -"
is "an Ed25519 account key: 201" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" account-ed25519 | cut -d' ' -f1-2)" "201 -"
is "an RSA-2048 account key: 201" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" account-rsa2048 | cut -d' ' -f1-2)" "201 -"
is "POST-as-GET of the account with kid: 200" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" account-get | cut -d' ' -f1-2)" "200 -"
before=$(accounts)
for c in "rsa1024 400 badPublicKey" "only-existing 400 accountDoesNotExist" \
    "bogus-nonce 400 badNonce" "alg-none 400 badSignatureAlgorithm" \
    "alg-hs256 400 badSignatureAlgorithm" "wrong-url 401 unauthorized" \
    "big-body 413 malformed" "bad-signature 400 malformed" \
    "not-json 400 malformed" "kid-and-jwk 400 malformed" \
    "bad-contact 400 invalidContact"; do
	set -- $c
	is "$1: $2 $3" "$(python3 "$PROBE" "$DIR" "$BUNDLE" "$1")" "$2 $3"
done
is "none of them stored an account" "$(accounts)" "$before"
is "a replayed nonce: badNonce (the first use stands)" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" replay)" "400 badNonce"
is "another account's key for an account URL: 403 unauthorized" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" other-account)" "403 unauthorized"
check "the account records an event" test "$(sqlite3 "$S" \
    "SELECT count(*) FROM events WHERE action = 'acme-account'")" -gt 0

# ---- the request log, and a stop on SIGTERM ----
check "one log line per request: method, path (a URL: spaces as %20), status, ms" \
    grep -Eq '^POST /acme/certmint%20dev%20CA/new-account 201 [0-9.]+ ms$' s1.out
curl -s -o /dev/null "$HTTP/ca/x%0AGET%20/forged%20200%201.0%20ms"
check "a %0A in a path forges no log line" sh -c \
    "! grep -q '^GET /forged' s1.out && grep -q '^GET /ca/x%0AGET%20/forged' s1.out"
kill -TERM "$SPID"
wait "$SPID"
is "SIGTERM: exit 0" "$?" 0
check "the store is free after the stop" "$CM" issue server after.test

serve_start s2.out --listen 127.0.0.1:0 --log-format json --acme
curl -fsS --cacert "$BUNDLE" -o /dev/null "$DIR"
sleep 0.2
check "--log-format json: one JSON object per request" python3 -c "
import json
ls = [json.loads(l) for l in open('s2.out') if l.startswith('{')]
assert any(l['method'] == 'GET' and l['status'] == 200 and l['path'].endswith('/directory') for l in ls), ls"
code=$(curl -sS --cacert "$BUNDLE" -o /dev/null -w '%{http_code}' "$HTTPS/crl/$CAE.crl")
is "--acme alone: no CRL route (404)" "$code" 404
kill -TERM "$SPID"; wait "$SPID"

# ---- bad input ----
expect_fail 2 "listen address 'nowhere'" "--listen nowhere: exit 2" \
    "$CM" serve --listen nowhere
expect_fail 2 "timeout" "--timeout x: exit 2" "$CM" serve --timeout x
expect_fail 2 "nosuch" "--tls-cert unknown: exit 2" "$CM" serve --tls-cert nosuch \
    --listen 127.0.0.1:0 --timeout 1
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(30)' >busy.port &
BPID=$!; PIDS="$PIDS $BPID"
i=0; while [ ! -s busy.port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_fail 4 "cannot listen on 127.0.0.1:$(cat busy.port)" "a port in use: exit 4" \
    "$CM" serve --listen "127.0.0.1:$(cat busy.port)" --timeout 1
kill $BPID 2>/dev/null

# A CA constrained to .test and 127.0.0.0/8 (no localhost): serve's own
# certificate names the listen address alone, and serve starts.
"$CM" --store "$WORK/nc.db" init --permit .test --permit 127.0.0.0/8 >/dev/null 2>&1
"$CM" --store "$WORK/nc.db" serve --listen 127.0.0.1:0 --timeout 2 >nc.out 2>nc.err
is "serve on a CA whose constraints leave out localhost: starts and stops (exit 0)" "$?" 0
diag nc.err
check "... its HTTPS certificate names 127.0.0.1" sh -c \
    "'$CM' --store '$WORK/nc.db' list | grep -q ' 127.0.0.1\$'"

done_testing
