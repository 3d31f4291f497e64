#!/bin/sh
# serve-acme.sh - ACME orders through certmint serve (issue 15): the whole
# http-01 flow with a Python client (order, authorization, challenge,
# finalize, download), the bad CSRs finalize must refuse, an order for a
# name outside the CA's name constraints, orders across a restart, and
# the real clients certbot and lego when installed.  Everything listens
# on 127.0.0.1; --resolve points the validation at it.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl
need sqlite3
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"

. "$top_srcdir/tests/cli/serve-lib.sh"

serve_init
HP=$(free_port)
PORT=$(free_port)
serve_start s.out --listen "127.0.0.1:$PORT" --resolve app.test=127.0.0.1 \
    --resolve other.test=127.0.0.1 --resolve cb.test=127.0.0.1 \
    --resolve lego.test=127.0.0.1 --resolve slow.test=127.0.0.2 \
    --http01-port "$HP"
check "serve started" test -n "$DIR"

# ---- validation does not hold the server: a target that trickles its
# answer, a byte a second, past the 10 s deadline ----
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.2', $HP)); s.listen(8)
c, _ = s.accept()
for b in b'HTTP/1.1 200 OK\r\n' * 3:
    c.send(bytes([b])); time.sleep(1)" &
PIDS="$PIDS $!"
sleep 0.3
python3 "$PROBE" "$DIR" "$BUNDLE" slow-chall slow.test >slow.out 2>&1
is "a trickling http-01 target: the challenge answers processing at once (Retry-After 1), the server keeps answering" \
    "$(head -1 slow.out)" "processing 1 fast fast"
is "... and the challenge ends invalid after 10 s, a connection error" \
    "$(sed -n 2p slow.out)" "invalid connection"

# ---- the whole flow ----
out=$(python3 "$PROBE" "$DIR" "$BUNDLE" order app.test "$HP" app.pem)
is "order, http-01, finalize, download: a PEM chain, the order valid" \
    "$out" "200 application/pem-certificate-chain valid"
check "the certificate verifies for app.test (openssl -x509_strict)" \
    openssl verify -CAfile "$BUNDLE" -x509_strict -verify_hostname app.test app.pem
check "it is in the inventory" sh -c "'$CM' list --name app.test | grep -q valid"
check "certmint list --name app.test shows the ACME account in its ACME column" sh -c \
    "'$CM' list --name app.test | awk 'NR > 1 && \$2 == \"valid\" && \$5 ~ /^[0-9]+\$/ { f = 1 } END { exit !f }'"
acct=$(sqlite3 "$S" "SELECT acme_account_id FROM certs WHERE acme_account_id IS NOT NULL LIMIT 1")
check "... with the ACME account that asked for it" test -n "$acct"
is "list --json shows that account: its id and key thumbprint" \
    "$("$CM" list --json --name app.test | python3 -c '
import json, sys
a = json.load(sys.stdin)["certificates"][0]["acme_account"]
print(a["id"], len(a["key_thumbprint"]))')" "$acct 43"
is "... and a certificate issued by hand has none" \
    "$("$CM" issue server byhand.test >/dev/null 2>&1;
      "$CM" list --json --name byhand.test | python3 -c '
import json, sys
print(json.load(sys.stdin)["certificates"][0]["acme_account"])')" "None"

# ---- revokeCert: by another account (refused), by the certificate's key,
# then again ----
python3 "$PROBE" "$DIR" "$BUNDLE" order-revoke app.test "$HP" rv.pem >rv.out 2>&1
is "revokeCert: another account refused, the certificate's key takes it, then alreadyRevoked" \
    "$(tr '\n' ' ' <rv.out)" \
    "200 application/pem-certificate-chain valid 403 unauthorized 200 - 400 alreadyRevoked "
RVS=$(openssl x509 -in rv.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
check "... the store has it revoked, keyCompromise" sh -c \
    "'$CM' list --status revoked | grep -i '$RVS' | grep -q keyCompromise"

# ---- profiles (draft-aaron-acme-profiles) ----
python3 "$PROBE" "$DIR" "$BUNDLE" profiles >pf.out 2>&1
is "meta.profiles lists server and peer; an order names peer; root-ca is refused" \
    "$(tr '\n' ' ' <pf.out)" "peer server 201 peer 400 invalidProfile "
python3 "$PROBE" "$DIR" "$BUNDLE" order-peer app.test "$HP" peer.pem >/dev/null 2>&1
check "an order for profile peer gets serverAuth and clientAuth" sh -c \
    "openssl x509 -in peer.pem -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication'"

# ---- renewal information (RFC 9773) ----
python3 "$PROBE" "$DIR" "$BUNDLE" order-ari app.test "$HP" ari.pem >ari.out 2>&1
check "renewalInfo: the window starts at two thirds of the validity, Retry-After 6 h" \
    grep -q '^window 200 0.67 21600$' ari.out
check "an order that replaces it is accepted" grep -q '^replaces 201$' ari.out
check "... and issued" grep -q '^second 200 valid$' ari.out
# (alreadyReplaced is answered only for a certificate the store has as
# superseded: the first order's finalize marked it.)
check "a second order replacing the same one: alreadyReplaced" \
    grep -q '^409 alreadyReplaced$' ari.out
check "once revoked, the window is now" grep -q '^revoked-window True$' ari.out
diag ari.out
# ---- key rollover (RFC 8555 7.3.5) ----
is "keyChange: the new key signs for the account, the old one no longer" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" key-change | tr '\n' ' ')" \
    "200 new key 200 400 malformed "
is "keyChange to another account's key: 409" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" key-change-taken)" "409 malformed"

# ---- account update and deactivation, authorization deactivation ----
is "an account updates its contact" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" update-contact)" "200 mailto:new@example.test"
is "a deactivated account orders nothing (unauthorized)" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" deactivate | tr '\n' ' ')" \
    "200 deactivated 403 unauthorized "
is "a deactivated authorization makes its order invalid" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" authz-deactivate)" "200 deactivated invalid"

# ---- what must fail, and leave nothing issued ----
n0=$(sqlite3 "$S" 'SELECT count(*) FROM certs')
is "no answer to http-01: the challenge and the order invalid" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order-nohttp app.test "$HP" x.pem | tr '\n' ' ')" \
    "challenge invalid order invalid "
is "a CSR whose signature does not verify: badCSR" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order-badcsr app.test "$HP" x.pem)" "400 badCSR"
is "a CSR for a name the order does not have: badCSR" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order-othername app.test "$HP" x.pem)" "400 badCSR"
is "a CSR whose subject CN (evil.test) the order does not have: badCSR (RFC 8555 7.4)" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order-evilcn app.test "$HP" x.pem)" "400 badCSR"
is "... and no certificate names evil.test" "$("$CM" list --name evil.test 2>/dev/null)" ""
is "a CSR with the account key: badCSR" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order-accountkey app.test "$HP" x.pem)" "400 badCSR"
is "an order outside the CA's name constraints: rejectedIdentifier" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" order app.example "$HP" x.pem)" "400 rejectedIdentifier"
is "nothing was issued by them" "$(sqlite3 "$S" 'SELECT count(*) FROM certs')" "$n0"

# ---- an order survives a restart ----
kill -TERM "$SPID"; wait "$SPID"
is "serve stopped cleanly after the orders (exit 0)" "$?" 0
diag s.out.err
orders=$(sqlite3 "$S" "SELECT count(*) FROM acme_orders")
OP=$(free_port)
serve_start s2.out --listen "127.0.0.1:$PORT" --resolve app.test=127.0.0.1 \
    --resolve cb.test=127.0.0.1 --http01-port "$HP" \
    --http-listen "127.0.0.1:$OP"
is "after a restart the orders are still in the store" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders")" "$orders"
is "every order is in a valid state" "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders WHERE status NOT IN ('pending','ready','processing','valid','invalid')")" 0
out=$(python3 "$PROBE" "$DIR" "$BUNDLE" order app.test "$HP" app2.pem)
is "and the flow works again" "$out" "200 application/pem-certificate-chain valid"

# ---- real clients ----
if command -v certbot >/dev/null 2>&1; then
	mkdir -p cb
	REQUESTS_CA_BUNDLE="$BUNDLE" timeout 120 certbot certonly --standalone \
	    --http-01-port "$HP" --http-01-address 127.0.0.1 -d cb.test \
	    --server "$DIR" --config-dir cb/c --work-dir cb/w --logs-dir cb/l \
	    --agree-tos --register-unsafely-without-email --non-interactive \
	    >cb.out 2>&1
	is "certbot certonly --standalone (http-01): exit 0" "$?" 0
	diag cb.out
	check "certbot's certificate verifies for cb.test" openssl verify \
	    -CAfile "$BUNDLE" -verify_hostname cb.test cb/c/live/cb.test/cert.pem
	check "... and is in the inventory" sh -c "'$CM' list --name cb.test | grep -q valid"
	first=$(openssl x509 -in cb/c/live/cb.test/cert.pem -noout -serial)
	REQUESTS_CA_BUNDLE="$BUNDLE" timeout 120 certbot renew --force-renewal --no-random-sleep-on-renew \
	    --config-dir cb/c --work-dir cb/w --logs-dir cb/l \
	    --non-interactive >cbn.out 2>&1
	is "certbot renew --force-renewal (its saved server, http-01 port): exit 0" "$?" 0
	diag cbn.out
	check "... a new certificate for cb.test, in the inventory beside the first" \
	    sh -c "[ \"\$(openssl x509 -in cb/c/live/cb.test/cert.pem -noout -serial)\" != '$first' ] &&
	        [ \"\$('$CM' list --name cb.test | grep -c valid)\" -ge 2 ]"
	REQUESTS_CA_BUNDLE="$BUNDLE" timeout 120 certbot revoke \
	    --cert-path cb/c/live/cb.test/cert.pem --reason keycompromise \
	    --server "$DIR" --config-dir cb/c --work-dir cb/w --logs-dir cb/l \
	    --non-interactive --no-delete-after-revoke >cbr.out 2>&1
	is "certbot revoke: exit 0" "$?" 0
	diag cbr.out
	check "... the store has it revoked, keyCompromise" sh -c \
	    "'$CM' list --status revoked --name cb.test | grep -q keyCompromise"
	# The CA's certificate as served, and serve's own OCSP and CRL.
	curl -s -o ca.pem "http://127.0.0.1:$OP/ca/certmint%20dev%20CA.pem"
	openssl ocsp -issuer ca.pem -cert cb/c/live/cb.test/cert.pem \
	    -url "http://127.0.0.1:$OP/ocsp" -CAfile "$BUNDLE" >cbo.out 2>&1
	check "... OCSP through serve (openssl ocsp) says revoked" \
	    grep -q "cert.pem: revoked" cbo.out
	diag cbo.out
	curl -s -o cb.crl "http://127.0.0.1:$OP/crl/certmint%20dev%20CA.crl"
	check "... the CRL serve hands out lists it (openssl crl)" sh -c \
	    "openssl crl -inform DER -in cb.crl -noout -text | grep -qi \"Serial Number: \$(openssl x509 -in cb/c/live/cb.test/cert.pem -noout -serial | cut -d= -f2)\""
else
	echo "# certbot not installed: its checks skipped"
fi
# ---- External Account Binding ----
kill -TERM "$SPID"; wait "$SPID"
"$CM" acme eab add --json >eab.json
EK=$(python3 -c 'import json; print(json.load(open("eab.json"))["kid"])')
EH=$(python3 -c 'import json; print(json.load(open("eab.json"))["hmac_key"])')
check "acme eab add: a key id and a 32-octet HMAC key" python3 -c "
import base64, json; k = json.load(open('eab.json'))['hmac_key']
assert len(base64.urlsafe_b64decode(k + '=' * (-len(k) % 4))) == 32"
serve_start s6.out --listen "127.0.0.1:$PORT" --eab-required
is "--eab-required: none refused, a wrong MAC refused, the key binds one account only" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" eab "$EK" "$EH")" \
    "400 externalAccountRequired | 400 unauthorized | 201 - | 400 unauthorized True"
if command -v certbot >/dev/null 2>&1; then
	"$CM" acme eab add --json >eab2.json
	EK2=$(python3 -c 'import json; print(json.load(open("eab2.json"))["kid"])')
	EH2=$(python3 -c 'import json; print(json.load(open("eab2.json"))["hmac_key"])')
	REQUESTS_CA_BUNDLE="$BUNDLE" timeout 120 certbot register \
	    --server "$DIR" --eab-kid "$EK2" --eab-hmac-key "$EH2" \
	    --config-dir cbe/c --work-dir cbe/w --logs-dir cbe/l --agree-tos \
	    --register-unsafely-without-email --non-interactive >cbe.out 2>&1
	is "certbot register with --eab-kid/--eab-hmac-key: exit 0" "$?" 0
	diag cbe.out
fi

# ---- rate limits, counted in the store ----
kill -TERM "$SPID"; wait "$SPID"
serve_start s4.out --listen "127.0.0.1:$PORT" --rate-orders 2
is "--rate-orders 2: the third new order in the hour is rateLimited, Retry-After" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" rate)" "201 201 429 rateLimited 3600"
kill -TERM "$SPID"; wait "$SPID"
serve_start s5.out --listen "127.0.0.1:$PORT" --resolve app.test=127.0.0.1 \
    --resolve cb.test=127.0.0.1 --http01-port "$HP"

if command -v lego >/dev/null 2>&1; then
	kill -TERM "$SPID"; wait "$SPID"
	serve_start s3.out --listen "127.0.0.1:$PORT" --resolve lego.test=127.0.0.1 \
	    --http01-port "$HP"
	LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 lego --server "$DIR" \
	    --email a@example.test --domains lego.test --http \
	    --http.port "127.0.0.1:$HP" --path lg --accept-tos run >lego.out 2>&1
	is "lego run --http: exit 0" "$?" 0
	diag lego.out
	check "lego's certificate verifies for lego.test" openssl verify \
	    -CAfile "$BUNDLE" -verify_hostname lego.test lg/certificates/lego.test.crt
	check "... and is in the inventory" sh -c "'$CM' list --name lego.test | grep -q valid"
	first=$(openssl x509 -in lg/certificates/lego.test.crt -noout -serial)
	LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 lego --server "$DIR" \
	    --email a@example.test --domains lego.test --http \
	    --http.port "127.0.0.1:$HP" --path lg --accept-tos renew \
	    --days 9999 --no-random-sleep >legor.out 2>&1
	is "lego renew (its account, a new order): exit 0" "$?" 0
	diag legor.out
	check "... a new certificate, in the inventory beside the first" \
	    sh -c "[ \"\$(openssl x509 -in lg/certificates/lego.test.crt -noout -serial)\" != '$first' ] &&
	        [ \"\$('$CM' list --name lego.test | grep -c valid)\" -ge 2 ]"
	# External Account Binding (RFC 8555 7.3.4) with lego's --eab.
	kill -TERM "$SPID"; wait "$SPID"
	"$CM" acme eab add --json >eab3.json
	EK3=$(python3 -c 'import json; print(json.load(open("eab3.json"))["kid"])')
	EH3=$(python3 -c 'import json; print(json.load(open("eab3.json"))["hmac_key"])')
	serve_start s7.out --listen "127.0.0.1:$PORT" --resolve lego.test=127.0.0.1 \
	    --http01-port "$HP" --eab-required
	LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 lego --server "$DIR" \
	    --email b@example.test --domains lego.test --http \
	    --http.port "127.0.0.1:$HP" --path lge --accept-tos --eab \
	    --kid "$EK3" --hmac "$EH3" run >legoe.out 2>&1
	is "lego run --eab against --eab-required: exit 0" "$?" 0
	diag legoe.out
	LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 lego --server "$DIR" \
	    --email c@example.test --domains lego.test --http \
	    --http.port "127.0.0.1:$HP" --path lgn --accept-tos run >legon.out 2>&1
	is "... and without --eab it is refused (exit 1)" "$?" 1
	check "... lego says the server requires External Account Binding" grep -qi "external account" legon.out
	diag legon.out
else
	echo "# lego not installed: its checks skipped"
fi
kill -TERM "$SPID"; wait "$SPID"
is "serve stops cleanly on SIGTERM (exit 0; under the sanitizers: no leak)" \
    "$?" 0
diag "$(ls -t s*.out.err | head -1)"

done_testing
