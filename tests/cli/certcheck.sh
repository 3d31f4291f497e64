#!/bin/sh
# certcheck.sh - certificate correctness found by linters and targeted
# checks (issue 14, item 7): an address of the other family under a CA
# that permits only IPv4 ranges; IDN A-labels that do not decode; subject
# fields over their X.520 bounds; URIs with spaces or controls in
# profiles; keys repeated in a profile.  Each reproduction is kept here.
. "$top_srcdir/tests/cli/lib.sh"

cd "$WORK" || exit 1
C=$CERTMINT

# --- iPAddress is one name form (RFC 5280 4.2.1.10) ----------------------------
check "a CA that permits 127.0.0.0/8 only" \
	"$C" init --name ipca --permit 127.0.0.0/8
expect_fail 2 "^certmint: name '::1' is outside the name constraints of CA 'ipca'$" \
	"issue server ::1 under 127.0.0.0/8 only is refused" \
	"$C" issue server ::1
check "... nor a file left" sh -c '! ls ::1.* 2>/dev/null | grep -q .'
expect_fail 2 "^certmint: name 'https://\\[::1\\]/x' is outside the name constraints of CA 'ipca': its host is '::1'$" \
	"a URI with an IPv6 host too" "$C" issue server 'https://[::1]/x'
check "127.0.0.1 and a DNS name are issued" \
	"$C" issue server 127.0.0.1 localhost
expect_fail 2 "^certmint: --permit '::1/128' is outside the name constraints of CA 'ipca'$" \
	"an intermediate cannot permit an IPv6 range under it" \
	"$C" ca create sub --parent ipca --permit ::1/128
if command -v openssl >/dev/null 2>&1; then
	"$C" ca show --pem ipca >ipca.pem
	check "openssl -x509_strict accepts the 127.0.0.1 certificate" \
		openssl verify -x509_strict -CAfile ipca.pem 127.0.0.1.crt
fi

# A chain made elsewhere: GnuTLS 3.7 accepts ::1 under 127.0.0.0/8,
# OpenSSL and Go do not, and verify follows RFC 5280.
if python3 -c 'import cryptography' 2>/dev/null; then
	python3 - <<'PY'
import datetime, ipaddress
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
ck = ec.generate_private_key(ec.SECP256R1())
ca = (x509.CertificateBuilder().subject_name(name("v4 only CA"))
      .issuer_name(name("v4 only CA")).public_key(ck.public_key())
      .serial_number(1).not_valid_before(now)
      .not_valid_after(now + datetime.timedelta(days=30))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                   True, False, False), True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(
          ck.public_key()), False)
      .add_extension(x509.NameConstraints(
          [x509.IPAddress(ipaddress.ip_network("127.0.0.0/8"))], None), True)
      .sign(ck, hashes.SHA256()))
for fn, ip in (("v6.crt", "::1"), ("v4.crt", "127.0.0.1")):
    lk = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("leaf " + ip))
            .issuer_name(ca.subject).public_key(lk.public_key())
            .serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=20))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip))]), True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.AuthorityKeyIdentifier
                .from_issuer_public_key(ck.public_key()), False)
            .sign(ck, hashes.SHA256()))
    open(fn, "wb").write(leaf.public_bytes(serialization.Encoding.PEM))
open("v4ca.crt", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
PY
	"$C" verify v6.crt --trust v4ca.crt --name ::1 --json >v.json
	is "verify: ::1 under 127.0.0.0/8 only is refused (exit 1)" "$?" 1
	check "... as name-constraints" grep -q '"class": "name-constraints"' \
		v.json
	check "verify: 127.0.0.1 under it is valid" \
		"$C" verify v4.crt --trust v4ca.crt --name 127.0.0.1
	if command -v openssl >/dev/null 2>&1; then
		check_not "openssl -x509_strict refuses the ::1 chain too" \
			openssl verify -x509_strict -CAfile v4ca.crt v6.crt
		check "openssl accepts the 127.0.0.1 one" \
			openssl verify -x509_strict -CAfile v4ca.crt v4.crt
	fi
else
	ok "# SKIP python3 cryptography not installed (foreign ::1 chain)"
fi

# --- IDN A-labels: the Punycode must decode (RFC 5890, 3492) ------------------
expect_fail 2 "^certmint: name 'xn--zz\.test' is not a hostname: it has an 'xn--' label that is not a valid IDNA A-label" \
	"xn--zz.test is refused" "$C" issue server xn--zz.test
expect_fail 2 "^certmint: name 'a\.xn--a\.test' is not a hostname: it has an 'xn--' label" \
	"an A-label that decodes to nothing is refused" \
	"$C" issue server a.xn--a.test
check "a valid A-label (café.test) is issued" \
	"$C" issue server xn--caf-dma.test
check "... and openssl reads it" sh -c \
	'openssl x509 -in xn--caf-dma.test.crt -noout -ext subjectAltName |
	    grep -q "DNS:xn--caf-dma.test"'
expect_fail 2 "^certmint: --permit 'xn--zz\.test': not a DNS suffix" \
	"--permit xn--zz.test is refused" \
	"$C" init --name idn --permit xn--zz.test

# --- profiles: X.520 bounds, URIs, keys given twice ---------------------------
# prof FILE LINES...: writes a profile for a TLS server with LINES added.
prof() {
	_f=$1; shift
	{ echo tls_www_server; echo signing_key; printf '%s\n' "$@"; } >"$_f"
}
u70=$(printf '%070d' 0 | tr 0 u)
prof ou.tmpl "unit = $u70"
expect_fail 2 "^certmint: \./ou\.tmpl:3: unit is 70 characters, over the X\.520 bound of 64 \(ub-organizational-unit-name\)$" \
	"an OU of 70 characters is refused, naming field and bound" \
	"$C" issue server ou.test --profile ./ou.tmpl
prof cn.tmpl "cn = $u70"
expect_fail 2 "^certmint: \./cn\.tmpl:3: cn is 70 characters, over the X\.520 bound of 64 \(ub-common-name\)$" \
	"a CN of 70 characters is refused" \
	"$C" issue server cn.test --profile ./cn.tmpl
prof st.tmpl "state = $(printf '%0129d' 0)"
expect_fail 2 "^certmint: \./st\.tmpl:3: state is 129 characters, over the X\.520 bound of 128 \(ub-state-name\)$" \
	"a state of 129 characters is refused" \
	"$C" issue server st.test --profile ./st.tmpl
prof ou64.tmpl "unit = $(python3 -c 'print("é" * 64)' 2>/dev/null ||
	printf '%064d' 0)"
check "an OU of 64 characters (128 octets of é) is issued" \
	"$C" issue server ou64.test --profile ./ou64.tmpl
check "... openssl reads it" sh -c \
	'openssl x509 -in ou64.test.crt -noout -subject >/dev/null'
prof co.tmpl "country = USA"
expect_fail 2 "^certmint: \./co\.tmpl:3: country 'USA' is not a two-letter code$" \
	"a country of three letters is refused" \
	"$C" issue server co.test --profile ./co.tmpl
prof crl.tmpl 'crl_dist_points = "http://ca.test/a b.crl"'
expect_fail 2 "^certmint: \./crl\.tmpl:3: crl_dist_points 'http://ca\.test/a b\.crl' is not a URI: it has a space \(write it %20\)$" \
	"a space in crl_dist_points is refused" \
	"$C" issue server crl.test --profile ./crl.tmpl
prof ocsp.tmpl "ocsp_uri = \"http://ca.test/$(printf '\t')x\""
expect_fail 2 "^certmint: \./ocsp\.tmpl:3: ocsp_uri 'http://ca\.test/\?x' is not a URI: it has a control or non-ASCII character$" \
	"a control character in ocsp_uri is refused" \
	"$C" issue server ocsp.test --profile ./ocsp.tmpl
prof aia.tmpl "ca_issuers_uri = ca.test/ca.crt"
expect_fail 2 "^certmint: \./aia\.tmpl:3: ca_issuers_uri 'ca\.test/ca\.crt' is not a URI: it has no scheme" \
	"a ca_issuers_uri without a scheme is refused" \
	"$C" issue server aia.test --profile ./aia.tmpl
check "no certificate of a refused profile was issued" sh -c \
	'! ls ou.test.crt cn.test.crt st.test.crt crl.test.crt ocsp.test.crt 2>/dev/null | grep -q .'
prof twice.tmpl "expiration_days = 30" "# a comment" "expiration_days = 90"
expect_fail 2 "^certmint: \./twice\.tmpl:5: 'expiration_days' is set again \(first on line 3\): give it once$" \
	"a key given twice is refused, naming both lines" \
	"$C" issue server twice.test --profile ./twice.tmpl
prof flag.tmpl "tls_www_client" "tls_www_server = no"
expect_fail 2 "^certmint: \./flag\.tmpl:4: 'tls_www_server' is set again \(first on line 1\)" \
	"a flag given twice is refused" \
	"$C" issue server flag.test --profile ./flag.tmpl
prof lists.tmpl "key_purpose_oid = 1.3.6.1.5.5.7.3.1" \
	"key_purpose_oid = 1.3.6.1.5.5.7.3.2" \
	"crl_dist_points = http://ca.test/a.crl" \
	"crl_dist_points = http://ca2.test/a.crl"
check "lists repeat (key_purpose_oid, crl_dist_points)" \
	"$C" issue server lists.test --profile ./lists.tmpl
check "... both distribution points in the certificate" sh -c \
	'openssl x509 -in lists.test.crt -noout -ext crlDistributionPoints |
	    grep -c "URI:http://ca" | grep -qx 2'

done_testing
