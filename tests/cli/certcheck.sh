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

done_testing
