#!/bin/sh
# key-formats.sh - `test --key` and scenario files take a private key in
# every form other tools write it (issue 13, item 6): PKCS#8 PEM and DER
# (openssl genpkey, Python cryptography, mkcert), SEC1 "EC PRIVATE KEY"
# and PKCS#1 "RSA PRIVATE KEY", PEM and DER (openssl -traditional,
# certtool, Python TraditionalOpenSSL), for every key type certmint
# issues.  openssl genpkey's PKCS#8 P-256 key used to fail with "ASN1
# parser: Error in DER parsing".  Keys are made at test time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
C=$CERTMINT
cd "$WORK" || exit 1
check "init" $C init

# run_key NAME KEYFILE: the handshake of NAME's own-name scenario with
# KEYFILE as the server key, from --key and from a scenario file.
run_key() {
	_n=$1 _k=$2 _d=$3
	check "$_d: test --cert $_n --key" $C test --cert "$_n" --key "$_k" \
	    --only "tls13/name:$_n"
	out_has "... the handshake is ok" " ok "
	cat >"$WORK/s.scn" <<EOS
[scenario own]
server_cert = file:$WORK/$_n.crt
server_key = $_k
trust = ca:certmint dev CA
name = $_n
expect = ok
EOS
	check "$_d: a scenario file's server_key" $C test "$WORK/s.scn"
}

# genkey TYPE FILE: a key of TYPE with openssl, PKCS#8 PEM.
genkey() {
	case $1 in
	ec-p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
	ec-p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 ;;
	ec-p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 ;;
	ed25519) openssl genpkey -algorithm ED25519 ;;
	ed448) openssl genpkey -algorithm ED448 ;;
	rsa-2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
	esac >"$2" 2>/dev/null
}

for kt in ec-p256 ec-p384 ec-p521 ed25519 ed448 rsa-2048; do
	n=$kt.keys.test
	genkey "$kt" "$WORK/$kt.p8.pem"
	openssl req -new -key "$WORK/$kt.p8.pem" -subj "/CN=$n" \
	    -addext "subjectAltName=DNS:$n" -out "$WORK/$kt.csr" 2>/dev/null
	check "$kt: sign a request made with openssl's key" $C sign \
	    "$WORK/$kt.csr" --profile server --cert "$WORK/$n.crt"
	head -1 "$WORK/$kt.p8.pem" | grep -q 'BEGIN PRIVATE KEY' ||
		not_ok "$kt: openssl wrote PKCS#8"
	run_key "$n" "$WORK/$kt.p8.pem" "$kt PKCS#8 PEM (openssl genpkey)"
	openssl pkey -in "$WORK/$kt.p8.pem" -outform DER \
	    -out "$WORK/$kt.p8.der"
	run_key "$n" "$WORK/$kt.p8.der" "$kt PKCS#8 DER"
	case $kt in
	ec-*|rsa-*)
		label="EC PRIVATE KEY"
		case $kt in rsa-*) label="RSA PRIVATE KEY" ;; esac
		openssl pkey -in "$WORK/$kt.p8.pem" -traditional \
		    -out "$WORK/$kt.trad.pem"
		is "$kt: openssl -traditional writes $label" \
		    "$(head -1 "$WORK/$kt.trad.pem")" "-----BEGIN $label-----"
		run_key "$n" "$WORK/$kt.trad.pem" "$kt $label PEM"
		# (pkey writes DER as PKCS#8 whatever -traditional says.)
		case $kt in
		ec-*) openssl ec -in "$WORK/$kt.p8.pem" -outform DER \
		    -out "$WORK/$kt.trad.der" 2>/dev/null ;;
		rsa-*) openssl rsa -in "$WORK/$kt.p8.pem" -traditional \
		    -outform DER -out "$WORK/$kt.trad.der" 2>/dev/null ;;
		esac
		run_key "$n" "$WORK/$kt.trad.der" "$kt $label DER"
		;;
	esac
done

# certtool's own keys (SEC1 and PKCS#1 by default; --pkcs8 for PKCS#8).
if command -v certtool >/dev/null 2>&1; then
	for spec in "ecdsa --curve secp384r1" "rsa --bits 2048" ed25519; do
		# shellcheck disable=SC2086
		set -- $spec
		t=$1
		n=ct-$t.keys.test
		certtool --generate-privkey --key-type $spec --no-text \
		    --outfile "$WORK/ct-$t.pem" >/dev/null 2>&1
		certtool --generate-request --load-privkey "$WORK/ct-$t.pem" \
		    --template /dev/stdin --outfile "$WORK/ct-$t.csr" \
		    >/dev/null 2>&1 <<EOT
cn = $n
dns_name = $n
EOT
		check "certtool $t: sign its request" $C sign "$WORK/ct-$t.csr" \
		    --profile server --cert "$WORK/$n.crt"
		run_key "$n" "$WORK/ct-$t.pem" "certtool $t key"
	done
else
	ok "# SKIP certtool not installed"
fi

# Python cryptography: PKCS8 and TraditionalOpenSSL, PEM and DER.
if python3 -c 'import cryptography' 2>/dev/null; then
	python3 - "$WORK" <<'EOPY'
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
d = sys.argv[1]
k = ec.generate_private_key(ec.SECP256R1())
name = "py.keys.test"
for fmt, enc, ext in ((s.PrivateFormat.PKCS8, s.Encoding.PEM, "p8.pem"),
                      (s.PrivateFormat.PKCS8, s.Encoding.DER, "p8.der"),
                      (s.PrivateFormat.TraditionalOpenSSL, s.Encoding.PEM,
                       "trad.pem"),
                      (s.PrivateFormat.TraditionalOpenSSL, s.Encoding.DER,
                       "trad.der")):
    open(f"{d}/py.{ext}", "wb").write(
        k.private_bytes(enc, fmt, s.NoEncryption()))
csr = (x509.CertificateSigningRequestBuilder()
       .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                   name)]))
       .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                      critical=False)
       .sign(k, hashes.SHA256()))
open(f"{d}/py.csr", "wb").write(csr.public_bytes(s.Encoding.PEM))
open(f"{d}/py.enc.pem", "wb").write(k.private_bytes(
    s.Encoding.PEM, s.PrivateFormat.PKCS8,
    s.BestAvailableEncryption(b"secret")))
EOPY
	check "Python: sign its request" $C sign "$WORK/py.csr" --profile server \
	    --cert "$WORK/py.keys.test.crt"
	for f in p8.pem p8.der trad.pem trad.der; do
		run_key py.keys.test "$WORK/py.$f" "Python cryptography $f"
	done
	expect_fail 2 'key given: the key is encrypted; give it unencrypted' \
	    "an encrypted key is refused, saying so" \
	    $C test --cert py.keys.test --key "$WORK/py.enc.pem"
else
	ok "# SKIP Python cryptography not installed"
fi

printf 'not a key\n' >"$WORK/junk.key"
expect_fail 2 'not an unencrypted private key \(PKCS#8, SEC1' \
    "junk is refused with the formats taken" \
    $C test --cert ec-p256.keys.test --key "$WORK/junk.key"
expect_fail 2 'is not the key of certificate' \
    "another certificate's key is refused" \
    $C test --cert ec-p256.keys.test --key "$WORK/ec-p384.p8.pem"
done_testing
