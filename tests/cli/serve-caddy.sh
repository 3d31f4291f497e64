#!/bin/sh
# serve-caddy.sh - Caddy gets its certificates from certmint serve (issue
# 15): acme_ca and acme_ca_root in a Caddyfile and nothing else, as the
# README shows.  One site validated as Caddy likes (http-01 here), one with
# http-01 disabled so tls-alpn-01 must do; curl trusting only the dev CA
# fetches both pages; the certificates are in the inventory with their
# ACME account and verify for their names; Caddy staples serve's OCSP
# answer (the CA names serve's responder: 'ca set', the one step beyond
# the README); a revocation shows in serve's CRL and OCSP.  Everything
# listens on 127.0.0.1.
. "$top_srcdir/tests/cli/lib.sh"
need caddy
need curl
need openssl
need sqlite3

. "$top_srcdir/tests/cli/serve-lib.sh"

serve_init
HP=$(free_port)
SP=$(free_port)
OP=$(free_port)
PORT=$(free_port)
# Certificates name serve's plain-HTTP OCSP responder and CRL, so that
# Caddy staples serve's answer (the one step beyond the README's set-up).
"$CM" ca set --ocsp-url "http://127.0.0.1:$OP/ocsp" \
    --crl-url "http://127.0.0.1:$OP/crl/certmint%20dev%20CA.crl" >/dev/null 2>&1
serve_start s.out --listen "127.0.0.1:$PORT" --http-listen "127.0.0.1:$OP" \
    --resolve '*.caddy.test=127.0.0.1' --resolve caddy.test=127.0.0.1 \
    --http01-port "$HP" --tlsalpn01-port "$SP"
check "serve started" test -n "$DIR"

cat >Caddyfile <<CADDY
{
	admin off
	http_port $HP
	https_port $SP
	default_bind 127.0.0.1
	acme_ca $DIR
	acme_ca_root $BUNDLE
	storage file_system $WORK/caddy
	skip_install_trust
}
caddy.test {
	respond "hello from caddy" 200
}
alpn.caddy.test {
	tls {
		issuer acme {
			disable_http_challenge
		}
	}
	respond "hello over tls-alpn-01" 200
}
CADDY
HOME=$WORK XDG_DATA_HOME=$WORK/xdg-data XDG_CONFIG_HOME=$WORK/xdg-config \
    caddy run --config Caddyfile --adapter caddyfile >caddy.log 2>&1 &
PIDS="$PIDS $!"

# fetch NAME: the page at https://NAME:$SP/ with only the dev CA trusted.
fetch() {
	curl -s --max-time 5 --cacert "$BUNDLE" --resolve "$1:$SP:127.0.0.1" \
	    "https://$1:$SP/" 2>/dev/null
}
i=0
until [ -n "$(fetch caddy.test)" ] && [ -n "$(fetch alpn.caddy.test)" ] ||
    [ $i -ge 60 ]; do
	sleep 0.5; i=$((i + 1))
done
is "curl --cacert (the dev CA only) gets Caddy's page for caddy.test" \
    "$(fetch caddy.test)" "hello from caddy"
is "... and for alpn.caddy.test" "$(fetch alpn.caddy.test)" \
    "hello over tls-alpn-01"
diag caddy.log
check "Caddy solved a tls-alpn-01 challenge" sh -c \
    "grep 'trying to solve challenge' caddy.log | grep -q tls-alpn-01"

for n in caddy.test alpn.caddy.test; do
	openssl s_client -connect "127.0.0.1:$SP" -servername "$n" \
	    </dev/null 2>/dev/null | openssl x509 >"$n.pem" 2>/dev/null
	check "the certificate Caddy serves for $n verifies (openssl -x509_strict)" \
	    openssl verify -CAfile "$BUNDLE" -x509_strict -verify_hostname "$n" "$n.pem"
	check "... it is in certmint list with its ACME account" sh -c \
	    "'$CM' list --json --name '$n' | grep -q key_thumbprint"
done

i=0
until openssl s_client -connect "127.0.0.1:$SP" -servername caddy.test -status \
    </dev/null 2>/dev/null | grep -q 'Cert Status: good' || [ $i -ge 20 ]; do
	sleep 0.5; i=$((i + 1))
done
check "Caddy staples serve's OCSP answer for caddy.test: good" sh -c \
    "openssl s_client -connect 127.0.0.1:$SP -servername caddy.test -status </dev/null 2>/dev/null | grep -q 'Cert Status: good'"
check "serve answered no request with a 5xx" sh -c "! grep -q ' 5[0-9][0-9] [0-9.]* ms' s.out"

"$CM" revoke caddy.test --reason keyCompromise >/dev/null 2>&1
is "certmint revoke caddy.test: exit 0" "$?" 0
curl -s -o ca.pem "http://127.0.0.1:$OP/ca/certmint%20dev%20CA.pem"
openssl ocsp -issuer ca.pem -cert caddy.test.pem -url "http://127.0.0.1:$OP/ocsp" \
    -CAfile "$BUNDLE" >ocsp.out 2>&1
check "OCSP through serve (openssl ocsp) says Caddy's certificate is revoked" \
    grep -q "caddy.test.pem: revoked" ocsp.out
diag ocsp.out
curl -s -o now.crl "http://127.0.0.1:$OP/crl/certmint%20dev%20CA.crl"
serial=$(openssl x509 -in caddy.test.pem -noout -serial | cut -d= -f2)
check "... and serve's CRL lists it" sh -c \
    "openssl crl -inform DER -in now.crl -noout -text | grep -qi 'Serial Number: $serial'"
kill -TERM "$SPID"; wait "$SPID"
is "serve stops cleanly on SIGTERM" "$?" 0

done_testing
