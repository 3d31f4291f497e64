#!/bin/sh
# serve-challenges.sh - the ACME validations besides http-01 (issue 15):
# tls-alpn-01 (RFC 8737) and dns-01 (RFC 8555 8.4) as pebble-challtestsrv
# answers them (Let's Encrypt's own challenge responder, so certmint's
# checks meet an implementation that is not its own), wildcards (dns-01
# only), an address identifier over tls-alpn-01 (RFC 8738: the SNI is the
# reverse name), authorizations reused while valid, the --allow list, the
# per-address rate limit shared by two serve on one store, and lego with
# --tls and with --dns against the same responder.  Everything listens on
# 127.0.0.1.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl
need pebble-challtestsrv
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"

. "$top_srcdir/tests/cli/serve-lib.sh"

serve_init
DNSP=$(free_port)
ALPNP=$(free_port)
MGMT=$(free_port)
pebble-challtestsrv -defaultIPv4 127.0.0.1 \
    -dns01 "127.0.0.1:$DNSP" -http01 "" -https01 "" \
    -tlsalpn01 "127.0.0.1:$ALPNP" -management "127.0.0.1:$MGMT" \
    >cts.log 2>&1 &
CTS=$!
PIDS="$PIDS $CTS"
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $MGMT), 1)" \
    2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done

PORT=$(free_port)
serve_start s.out --listen "127.0.0.1:$PORT" --resolve '*.ch.test=127.0.0.1' \
    --tlsalpn01-port "$ALPNP" --dns-resolver "127.0.0.1:$DNSP" \
    --allow .ch.test --allow 127.0.0.0/8
check "serve started" test -n "$DIR"

# probe TYPE NAME [wrong|none]: the chall case of acme_probe.py
probe() {
	_t=$1 _n=$2; shift 2
	python3 "$PROBE" "$DIR" "$BUNDLE" chall "$_t" "$_n" "$MGMT" out.pem "$@" \
	    2>&1 | tr '\n' ' '
}

is "tls-alpn-01: three challenges offered, validated, issued; a second order starts ready" \
    "$(probe tls-alpn-01 alpn.ch.test)" \
    "offered dns-01 http-01 tls-alpn-01 alpn.ch.test challenge valid - order 200 valid again 201 ready "
check "... its certificate verifies for alpn.ch.test (openssl -x509_strict)" \
    openssl verify -CAfile "$BUNDLE" -x509_strict -verify_hostname alpn.ch.test out.pem
is "tls-alpn-01 with another key authorization: unauthorized" \
    "$(probe tls-alpn-01 bad.ch.test wrong)" \
    "offered dns-01 http-01 tls-alpn-01 bad.ch.test challenge invalid unauthorized "
is "tls-alpn-01 where nothing speaks acme-tls/1 for the name: tls" \
    "$(probe tls-alpn-01 silent.ch.test none)" \
    "offered dns-01 http-01 tls-alpn-01 silent.ch.test challenge invalid tls "

is "dns-01: the TXT record found through --dns-resolver, issued" \
    "$(probe dns-01 dns.ch.test)" \
    "offered dns-01 http-01 tls-alpn-01 dns.ch.test challenge valid - order 200 valid again 201 ready "
is "dns-01 with the digest of another key authorization: unauthorized" \
    "$(probe dns-01 wrongtxt.ch.test wrong)" \
    "offered dns-01 http-01 tls-alpn-01 wrongtxt.ch.test challenge invalid unauthorized "
is "dns-01 with no TXT record: dns" \
    "$(probe dns-01 notxt.ch.test none)" \
    "offered dns-01 http-01 tls-alpn-01 notxt.ch.test challenge invalid dns "

is "a wildcard: only dns-01, the identifier below it with wildcard: true, issued" \
    "$(probe dns-01 '*.wild.ch.test')" \
    "offered dns-01 wildcard challenge valid - order 200 valid again 201 ready "
check "... the certificate covers a.wild.ch.test (openssl -x509_strict)" \
    openssl verify -CAfile "$BUNDLE" -x509_strict -verify_hostname a.wild.ch.test out.pem
check "... and not wild.ch.test itself" sh -c \
    "! openssl verify -CAfile '$BUNDLE' -verify_hostname wild.ch.test out.pem >/dev/null 2>&1"
check "... it is in the inventory" sh -c "'$CM' list --name '*.wild.ch.test' | grep -q valid"

kill -TERM "$SPID"; wait "$SPID"
ALPN2=$(free_port)
serve_start s2.out --listen "127.0.0.1:$PORT" --tlsalpn01-port "$ALPN2" \
    --allow .ch.test --allow 127.0.0.0/8
is "an address over tls-alpn-01: SNI the reverse name, the address in the certificate" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" chall tls-alpn-01 127.0.0.1 "$ALPN2" \
    out.pem 2>&1 | tr '\n' ' ')" \
    "offered http-01 tls-alpn-01 127.0.0.1 challenge valid - sni 1.0.0.127.in-addr.arpa order 200 valid again 201 ready "
check "... it verifies for 127.0.0.1" openssl verify -CAfile "$BUNDLE" \
    -x509_strict -verify_ip 127.0.0.1 out.pem
is "--allow .ch.test: an order for x.other.test (inside the name constraints) is rejectedIdentifier" \
    "$(probe dns-01 x.other.test)" "400 rejectedIdentifier "

# A second serve on the store with a per-address limit of 3 orders: the
# orders above came from 127.0.0.1 within the hour, so a new account's
# first order is refused.
kill -TERM "$SPID"; wait "$SPID"
serve_start s3.out --listen "127.0.0.1:$PORT" --rate-ip-orders 3
is "--rate-ip-orders 3: a new account's first order from the same address is rateLimited" \
    "$(python3 "$PROBE" "$DIR" "$BUNDLE" new-order)" "429 rateLimited"
kill -TERM "$SPID"; wait "$SPID"

"$CM" serve --listen 127.0.0.1:0 --allow 10.0.0.0/33 --timeout 5 >/dev/null 2>err.txt
is "--allow 10.0.0.0/33 is refused (exit 2)" "$?" 2
is "... in one line naming the entry" "$(cat err.txt)" \
    "certmint: serve: --allow '10.0.0.0/33' is not a DNS name, a .suffix, an address or a prefix (10.0.0.0/8)"
"$CM" serve --listen 127.0.0.1:0 --dns-resolver 127.0.0.1:99999 --timeout 5 >/dev/null 2>err.txt
is "--dns-resolver with a bad port is refused (exit 2)" "$?" 2
is "... in one line naming it" "$(cat err.txt)" \
    "certmint: serve: --dns-resolver '127.0.0.1:99999' is not IPv4[:PORT]"

if command -v lego >/dev/null 2>&1; then
	TP=$(free_port)
	serve_start s4.out --listen "127.0.0.1:$PORT" --resolve '*.ch.test=127.0.0.1' \
	    --tlsalpn01-port "$TP" --dns-resolver "127.0.0.1:$DNSP"
	LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 lego --server "$DIR" \
	    --email a@example.test --domains legotls.ch.test --tls \
	    --tls.port "127.0.0.1:$TP" --path lgt --accept-tos run >lego-tls.out 2>&1
	is "lego run --tls (tls-alpn-01): exit 0" "$?" 0
	diag lego-tls.out
	check "lego's certificate verifies for legotls.ch.test" openssl verify \
	    -CAfile "$BUNDLE" -x509_strict -verify_hostname legotls.ch.test \
	    lgt/certificates/legotls.ch.test.crt
	cat >txt-hook.sh <<EOF
#!/bin/sh
# lego's exec DNS provider: present|cleanup FQDN VALUE
case "\$1" in
present) path=/set-txt; body="{\"host\":\"\$2\",\"value\":\"\$3\"}" ;;
cleanup) path=/clear-txt; body="{\"host\":\"\$2\"}" ;;
*) exit 0 ;;
esac
exec python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST"), timeout=5).read()' \
    "http://127.0.0.1:$MGMT\$path" "\$body"
EOF
	chmod +x txt-hook.sh
	EXEC_PATH="$WORK/txt-hook.sh" EXEC_SEQUENCE_INTERVAL=1 \
	    EXEC_POLLING_INTERVAL=1 LEGO_CA_CERTIFICATES="$BUNDLE" timeout 120 \
	    lego --server "$DIR" --email a@example.test \
	    --domains '*.legodns.ch.test' --domains legodns.ch.test --dns exec \
	    --dns.resolvers "127.0.0.1:$DNSP" --dns.disable-cp --path lgd \
	    --accept-tos run >lego-dns.out 2>&1
	is "lego run --dns exec (dns-01 through pebble-challtestsrv), a wildcard and its base: exit 0" "$?" 0
	diag lego-dns.out
	crt=$(ls lgd/certificates/*.crt 2>/dev/null | grep -v issuer | head -1)
	check "lego's certificate verifies for x.legodns.ch.test and legodns.ch.test" sh -c \
	    "openssl verify -CAfile '$BUNDLE' -x509_strict -verify_hostname x.legodns.ch.test '$crt' &&
	     openssl verify -CAfile '$BUNDLE' -x509_strict -verify_hostname legodns.ch.test '$crt'"
	check "... and is in the inventory with its ACME account" sh -c \
	    "'$CM' list --json --name legodns.ch.test | grep -q key_thumbprint"
	kill -TERM "$SPID"; wait "$SPID"
	is "serve stops cleanly on SIGTERM" "$?" 0
else
	echo "# lego not installed: its checks skipped"
fi

done_testing
