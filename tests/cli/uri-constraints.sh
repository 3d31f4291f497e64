#!/bin/sh
# URIs under --permit: a constrained CA signs a URI only when its host
# (after any userinfo, without the port) lies in a permitted DNS suffix or
# IP range; userinfo, percent-encoding, a trailing dot, an empty or missing
# host do not get through.  Checked for issue, sign, renew and below an
# intermediate; what is issued, openssl verifies.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need sqlite3
C=$CERTMINT
cd "$WORK" || exit 1

count() { sqlite3 "$CERTMINT_STORE" "SELECT count(*) FROM certs"; }
san() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 |
    sed 's/^ *//'; }

check "init a constrained root" $C init --name dev --permit .test \
    --permit 127.0.0.0/8 --permit ::1/128 --permit @example.test
$C ca show dev --pem > dev.pem

# issue: the reviewer's URIs and the tricky forms, each refused with
# nothing written.
n0=$(count)
while read -r uri why; do
	# A backslash shows doubled (cmd_safe), then the regex quoting.
	expect_fail 2 "^certmint: name '$(printf '%s' "$uri" |
	    sed 's/\\/\\\\/g' |
	    sed 's/[][\.*^$?+(){}|]/\\&/g')' is outside the name constraints of CA 'dev': $why" \
	    "issue refuses $uri" $C issue client "$uri" --cert x.crt --key x.key
done <<'EOF'
spiffe://evil.com/admin its host is 'evil\.com'$
https://a.test@evil.com/ its host is 'evil\.com'$
https://a.test:443@evil.com/ its host is 'evil\.com'$
ldap://evil.com its host is 'evil\.com'$
https://a.test.evil.com/ its host is 'a\.test\.evil\.com'$
https://10.0.0.1:8443/ its host is '10\.0\.0\.1'$
https://[::2]/ its host is '::2'$
file:///etc/passwd its host is empty$
https://a.test./ its host ends with a dot$
https://a%2etest/ its host has a character not allowed in a hostname$
https://a.test:x/ its port is not a number$
https://evil.com\@a.test/ its userinfo has a character not allowed$
EOF
is "nothing was kept" "$(count)" "$n0"
[ -e x.crt ] || [ -e x.key ] && not_ok "no file was written" ||
    ok "no file was written"
expect_fail 2 "name 'spiffe://evil\.com/' is outside the name constraints" \
    "a bad URI after a good name is refused too" \
    $C issue server a.test 'spiffe://evil.com/' --cert x.crt --key x.key

# Inside the constraints: issued, and openssl agrees.
check "issue a URI under .test" $C issue client 'spiffe://svc.test/ns/web' \
    --cert svc.crt --key svc.key
is "the URI is in the certificate" "$(san svc.crt)" \
    "URI:spiffe://svc.test/ns/web"
check "openssl verify -x509_strict accepts it" \
    openssl verify -x509_strict -purpose sslclient -CAfile dev.pem svc.crt
check "issue URIs with a port, userinfo, IPv4 and IPv6 hosts" \
    $C issue server web.test 'https://WWW.test:8443/p' \
    'https://user@api.test/' 'https://127.0.0.1:8443/' 'https://[::1]/' \
    --cert web.crt --key web.key
check "openssl verify -x509_strict accepts them" \
    openssl verify -x509_strict -purpose sslserver -CAfile dev.pem web.crt

# sign: the request's URI SANs are judged like names on the command line.
csr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -subj "/O=requester" \
	    -addext "subjectAltName=$2" -out "$1.csr" 2>/dev/null
}
csr evil 'URI:spiffe://evil.com/admin'
csr userinfo 'DNS:ok.test,URI:https://ok.test@evil.com/'
csr good 'URI:spiffe://ok.test/svc'
n0=$(count)
expect_fail 2 "name 'spiffe://evil\.com/admin' is outside the name constraints of CA 'dev': its host is 'evil\.com'" \
    "sign refuses a request for a URI outside" \
    $C sign evil.csr --profile client
expect_fail 2 "name 'https://ok\.test@evil\.com/' is outside the name constraints of CA 'dev': its host is 'evil\.com'" \
    "sign refuses a URI whose userinfo looks inside" \
    $C sign userinfo.csr --profile server
is "nothing was kept" "$(count)" "$n0"
[ -e evil.crt ] && not_ok "no certificate file" || ok "no certificate file"
check "sign a request for a URI inside" $C sign good.csr --profile client
is "the URI is in the certificate" "$(san good.crt)" \
    "URI:spiffe://ok.test/svc"
check "openssl verify -x509_strict accepts it" \
    openssl verify -x509_strict -purpose sslclient -CAfile dev.pem good.crt

# renew: a certificate whose URI is outside (as an older certmint could
# issue; the store is edited to stand for one) is not renewed.
check "renew a URI inside" $C renew 'spiffe://svc.test/ns/web' \
    --cert svc2.crt --key svc2.key
check "openssl verify -x509_strict accepts the renewed one" \
    openssl verify -x509_strict -purpose sslclient -CAfile dev.pem svc2.crt
serial=$(openssl x509 -in svc2.crt -noout -serial | sed 's/.*=//' |
    tr 'A-F' 'a-f')
sqlite3 "$CERTMINT_STORE" "UPDATE cert_names SET name = 'spiffe://evil.com/admin'
    WHERE name = 'spiffe://svc.test/ns/web'"
n0=$(count)
expect_fail 2 "name 'spiffe://evil\.com/admin' is outside the name constraints of CA 'dev'" \
    "renew refuses a URI outside" $C renew "$serial" \
    --cert svc3.crt --key svc3.key
is "nothing was kept" "$(count)" "$n0"

# An intermediate: its own --permit and the root's both bind.
check "ca create with --permit .app.test" \
    $C ca create Issuing --parent dev --permit .app.test
expect_fail 2 "name 'spiffe://other\.test/' is outside the name constraints of CA 'Issuing': its host is 'other\.test'" \
    "the intermediate's --permit binds URIs" \
    $C issue client 'spiffe://other.test/' --ca Issuing --cert x.crt --key x.key
expect_fail 2 "its host '127\.0\.0\.1' is an IP address and the CA permits none" \
    "an IP host under a CA that permits only DNS names" \
    $C issue client 'https://127.0.0.1/' --ca Issuing --cert x.crt --key x.key
check "a URI inside both" $C issue client 'spiffe://svc.app.test/' \
    --ca Issuing --cert app.crt --key app.key --chain app.chain
check "openssl verify -x509_strict accepts it with the chain" \
    openssl verify -x509_strict -purpose sslclient -CAfile dev.pem \
    -untrusted app.chain app.crt
check "ca create without --permit (inherits the root's)" \
    $C ca create Inherit --parent dev
expect_fail 2 "name 'https://a\.test@evil\.com/' is outside the name constraints of CA 'Inherit'" \
    "the inherited constraints bind URIs" \
    $C issue server 'https://a.test@evil.com/' --ca Inherit --cert x.crt --key x.key

# Without constraints URIs stay free; mailbox constraints say nothing
# about hosts.
check "init an unconstrained root" $C init --name free
check "it issues any URI" $C issue client 'spiffe://evil.com/x' --ca free \
    --cert free.crt --key free.key
check "init a root constrained to mailboxes" $C init --name mail \
    --permit @example.test
check "it issues any URI" $C issue client 'urn+x://anything' --ca mail \
    --cert mail.crt --key mail.key

done_testing
