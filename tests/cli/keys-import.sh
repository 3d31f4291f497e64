#!/bin/sh
# keys-import.sh - adopting a CA made by openssl, then issuing from it;
# PKCS#12 input; refusals; import --issued.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
cd "$WORK" || exit 1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 30 -subj "/CN=OpenSSL Made CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout leaf.key -out leaf.crt -days 30 -subj "/CN=not-a-ca.test" \
    -addext basicConstraints=critical,CA:FALSE 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout nku.key -out nku.crt -days 30 -subj "/CN=No KeyCertSign" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,digitalSignature 2>/dev/null

expect_fail 2 "not a CA certificate \\(basicConstraints" "a leaf is refused" \
    "$CERTMINT" import --cert leaf.crt --key leaf.key
expect_fail 2 "keyUsage lacks keyCertSign" "CA without keyCertSign" \
    "$CERTMINT" import --cert nku.crt --key nku.key
expect_fail 2 "does not match the certificate" "key of another cert" \
    "$CERTMINT" import --cert ca.crt --key leaf.key
expect_fail 2 "not a private key" "certificate given as key" \
    "$CERTMINT" import --cert ca.crt --key ca.crt
# Without --key only a PKCS#12 file will do: a PEM or DER certificate is
# told so, with or without a terminal or a password to hand.
expect_fail 2 "ca\.crt: a PEM or DER certificate needs its key \(--key\)" \
    "PEM certificate without --key" \
    setsid "$CERTMINT" import --cert ca.crt --name nokey </dev/null
openssl x509 -in ca.crt -outform DER -out ca.der
expect_fail 2 "ca\.der: a PEM or DER certificate needs its key \(--key\)" \
    "DER certificate without --key" \
    setsid "$CERTMINT" import --cert ca.der --name nokey </dev/null
expect_fail 2 "ca\.crt: a PEM or DER certificate needs its key \(--key\)" \
    "... with a password in the environment too" \
    env CERTMINT_IMPORT_PASSWORD=x "$CERTMINT" import --cert ca.crt
is "nothing stored after refusals" \
    "$("$CERTMINT" ca list 2>/dev/null | grep -c 'OpenSSL Made')" 0
check_not "... not even an empty store" test -e "$CERTMINT_STORE"

echo 'store-pass' > pp
check "import the openssl CA" "$CERTMINT" import --cert ca.crt --key ca.key \
    --passphrase-file pp
export CERTMINT_PASSPHRASE=store-pass
check "it is listed" "$CERTMINT" ca show "OpenSSL Made CA"
check "issue from it" "$CERTMINT" issue server www.imported.test \
    --ca "OpenSSL Made CA" --cert www.crt --key www.key
check "openssl verify -x509_strict accepts it" openssl verify -x509_strict \
    -CAfile ca.crt www.crt
check "and with the purpose" openssl verify -x509_strict -purpose sslserver \
    -CAfile ca.crt www.crt
expect_fail 2 "already exists" "importing twice" \
    "$CERTMINT" import --cert ca.crt --key ca.key
expect_fail 2 "in the store already" "same CA under another name" \
    "$CERTMINT" import --cert ca.crt --key ca.key --name again

# An encrypted key (PKCS#8) and a PKCS#12 file.
openssl req -x509 -newkey rsa:2048 -keyout enc.key -passout pass:keypw \
    -out enc.crt -days 30 -subj "/CN=Encrypted Key CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
echo keypw > kp
echo nope > np
expect_fail 4 "key is encrypted: give its password" "no password" \
    "$CERTMINT" import --cert enc.crt --key enc.key
expect_fail 4 "wrong password" "wrong password" \
    "$CERTMINT" import --cert enc.crt --key enc.key --password-file np
check "encrypted key with its password" "$CERTMINT" import --cert enc.crt \
    --key enc.key --password-file kp
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout p.key -out p.crt -days 30 -subj "/CN=P12 CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl pkcs12 -export -inkey p.key -in p.crt -out p.p12 \
    -passout pass:p12pw 2>/dev/null
echo p12pw > p12pw
expect_fail 4 "p.p12: wrong password" "p12 with a wrong password" \
    "$CERTMINT" import --cert p.p12 --password-file np
expect_fail 4 "p.p12: wrong password" "p12 with a wrong password, new store" \
    "$CERTMINT" --store "$WORK/new/p.db" import --cert p.p12 --password-file np
check_not "... leaves no store behind" test -e "$WORK/new"
CERTMINT_IMPORT_PASSWORD=p12pw check "p12 import (password from env)" \
    "$CERTMINT" import --cert p.p12 --name "From P12"
check "issue from the p12 CA" "$CERTMINT" issue client c.test \
    --ca "From P12" --cert c.crt --key c.key
check "openssl verifies it" openssl verify -x509_strict -CAfile p.crt c.crt

# import --issued: certificates signed elsewhere by a known CA.
cat > ext.cnf <<'EOT'
basicConstraints=critical,CA:FALSE
subjectAltName=DNS:old.imported.test,IP:10.1.2.3
EOT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout old.key -out old.csr -subj "/CN=old.imported.test" 2>/dev/null
openssl x509 -req -in old.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 10 -out old.crt -extfile ext.cnf 2>/dev/null
check "import --issued" "$CERTMINT" import --issued old.crt
check "listed under its CA" "$CERTMINT" list --ca "OpenSSL Made CA"
cp "$WORK/out" list.out
check "with its name" grep -q old.imported.test list.out
check "show finds it by name" "$CERTMINT" show old.imported.test
check "importing it again adds nothing" "$CERTMINT" import --issued old.crt
cp "$WORK/out" again.out
check "0 added, and why" grep -q "0 certificates added (the store has them already)" again.out
# A one-octet serial: found, revoked and shown by it (the revocation was
# saved, then 'certificate 02 not found', exit 2).
openssl x509 -req -in old.csr -CA ca.crt -CAkey ca.key -set_serial 2 \
    -days 10 -out short.crt -extfile ext.cnf 2>/dev/null
check "import --issued (serial 02)" "$CERTMINT" import --issued short.crt
check "revoke 02" "$CERTMINT" revoke 02 --reason keyCompromise
check "show 2" "$CERTMINT" show 2
out_has "... revoked" "^status +revoked$"
# A 20-octet serial (openssl's -CAcreateserial uses 20): the list table
# stays aligned.
openssl x509 -req -in old.csr -CA ca.crt -CAkey ca.key \
    -set_serial 0x7f0102030405060708090a0b0c0d0e0f10111213 -days 10 \
    -out long.crt -extfile ext.cnf 2>/dev/null
check "import --issued (a 20-octet serial)" "$CERTMINT" import --issued long.crt
"$CERTMINT" list --ca "OpenSSL Made CA" >table.out
check "list: header and rows align" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
col = lines[0].index("NAMES")
assert all(l[col - 1] == " " and l[col] != " " for l in lines[1:]), lines
' table.out
expect_fail 2 "was not signed by any CA of the store" "foreign certificate" \
    "$CERTMINT" import --issued leaf.crt

# A CA whose validity starts in the future is adopted, but signs nothing
# until then (a child would start before its issuer).
if command -v certtool >/dev/null 2>&1; then
	certtool --generate-privkey --key-type ecdsa --outfile future.key \
	    >/dev/null 2>&1
	printf '%s\n' 'cn = "future CA"' ca cert_signing_key crl_signing_key \
	    'activation_date = "2099-01-01 00:00:00"' \
	    'expiration_date = "2100-01-01 00:00:00"' >future.tmpl
	certtool --generate-self-signed --load-privkey future.key \
	    --template future.tmpl --outfile future.crt >/dev/null 2>&1
	check "import a CA valid from 2099" "$CERTMINT" import \
	    --cert future.crt --key future.key --name future
	expect_fail 2 "CA 'future' is not valid before 2099-01-01T00:00:00Z and cannot sign yet" \
	    "it cannot sign yet" "$CERTMINT" issue server f.test --ca future
	check_not "... no certificate written" test -e f.test.crt
fi

# A CA certificate with one bit of its self-signature flipped is refused
# (issue 14, item 7): the key matches, the signature does not.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout flip.key -out flip.crt -days 30 -subj "/CN=Flipped CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl x509 -in flip.crt -outform DER -out flip.der
python3 -c '
import sys
d = bytearray(open("flip.der", "rb").read())
d[-5] ^= 0x01      # inside the signature value
open("flip.der", "wb").write(d)
'
expect_fail 2 "^certmint: flip.der: the self-signature does not verify" \
    "import of a CA whose self-signature has a flipped bit" \
    "$CERTMINT" import --cert flip.der --key flip.key --name flipped
check_not "... not in the store" sh -c \
    "'$CERTMINT' ca list | grep -q flipped"
openssl x509 -in flip.crt -outform DER -out flip-ok.der
check "... the same certificate unflipped is taken" "$CERTMINT" import \
    --cert flip-ok.der --key flip.key --name flipped
check "--help" "$CERTMINT" import --help
done_testing
