#!/bin/sh
# keys-pkcs11.sh - a CA whose key lives in a SoftHSM2 token: init
# --key-uri, issuing (one and a batch on threads) through GnuTLS's PKCS#11
# support, openssl verify; PIN errors.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need softhsm2-util
need p11tool
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -f "$MODULE" ] || skip_all "$MODULE absent (softhsm2)"
cd "$WORK" || exit 1

mkdir -p tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' \
    "$WORK" > softhsm2.conf
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
export CERTMINT_PKCS11_MODULE="$MODULE"
softhsm2-util --init-token --free --label certmint-test --pin 1234 \
    --so-pin 123456 >/dev/null 2>&1 || skip_all "cannot init a SoftHSM token"
p11tool --provider "$MODULE" --login --set-pin=1234 \
    --generate-privkey=ECDSA --curve=secp256r1 --label=ca-key \
    "pkcs11:token=certmint-test" >/dev/null 2>&1 ||
    skip_all "p11tool cannot generate a key in the token"
URI="pkcs11:token=certmint-test;object=ca-key;type=private"

expect_fail 4 "wrong or missing token PIN" "wrong PIN" \
    env CERTMINT_PASSPHRASE=9999 "$CERTMINT" init --name "Bad PIN" \
    --key-uri "$URI"
# The PIN never on the command line: pin-value is refused.
expect_fail 2 "^certmint init: --key-uri: pin-value would put the token PIN on the command line" \
    "init: pin-value refused" "$CERTMINT" init --name "Bad" \
    --key-uri "$URI?pin-value=1234"
cp "$WORK/err" pin.err
check_not "... the PIN is not echoed" grep -q 1234 pin.err
expect_fail 2 "^certmint init: --key-uri: pin-value" \
    "init: pin-value as a path attribute refused" "$CERTMINT" init \
    --name "Bad" --key-uri "pkcs11:token=certmint-test;pin-value=1234;object=ca-key"
expect_fail 2 "^certmint ca create: --key-uri: pin-value" \
    "ca create: pin-value refused" "$CERTMINT" ca create "Bad" --parent x \
    --key-uri "$URI?module-name=softhsm2&PIN-VALUE=1234"
expect_fail 2 "not a pkcs11: URI" "not a URI" \
    "$CERTMINT" init --name "Bad" --key-uri "file:/etc/passwd"
expect_fail 2 "no such key" "no such object" \
    env CERTMINT_PASSPHRASE=1234 "$CERTMINT" init --name "Bad" \
    --key-uri "pkcs11:token=certmint-test;object=nope;type=private"
is "nothing stored" "$("$CERTMINT" ca list 2>/dev/null | grep -c Bad)" 0

# From here on the PIN comes from the environment, as a script gives it.
export CERTMINT_PASSPHRASE=1234
echo 1234 >pin.txt
check "init with the key in the token (PIN from --passphrase-file)" \
    env -u CERTMINT_PASSPHRASE "$CERTMINT" init --name "HSM CA" \
    --key-uri "$URI" --passphrase-file pin.txt
check "the store keeps the URI, no key" sh -c "sqlite3 '$CERTMINT_STORE' \
    'SELECT count(*) FROM keys WHERE uri IS NOT NULL AND pkcs8 IS NULL' \
    | grep -qx 1"
check "export the CA" "$CERTMINT" export "HSM CA" --format pem --out ca.pem
check "issue through the token" "$CERTMINT" issue server hsm.test 127.0.0.1 \
    --cert hsm.crt --key hsm.key
check "openssl verify -x509_strict accepts it" openssl verify -x509_strict \
    -purpose sslserver -CAfile ca.pem hsm.crt
check "the CA certificate is self-signed by the token key" openssl verify \
    -x509_strict -CAfile ca.pem ca.pem
printf 'server a.hsm.test\nserver b.hsm.test\nclient c.hsm.test\n' > batch
mkdir -p bout
check "a batch on two threads" "$CERTMINT" issue --batch batch \
    --out-dir bout --threads 2
for n in a b c; do
	check "batch $n verifies" openssl verify -x509_strict -CAfile ca.pem \
	    "bout/$n.hsm.test.crt"
done
# An intermediate whose key is in the token too, under the token root,
# and one under a software root.
p11tool --provider "$MODULE" --login --set-pin=1234 \
    --generate-privkey=ECDSA --curve=secp384r1 --label=int-key \
    "pkcs11:token=certmint-test" >/dev/null 2>&1 ||
    skip_all "p11tool cannot generate a second key in the token"
IURI="pkcs11:token=certmint-test;object=int-key;type=private"
expect_fail 2 "the token key is ec-p384, not ec-p256" "--key-type mismatch" \
    "$CERTMINT" ca create "HSM Bad" --parent "HSM CA" --key-uri "$IURI" \
    --key-type ec-p256
expect_fail 2 "not a pkcs11: URI" "ca create: not a URI" \
    "$CERTMINT" ca create "HSM Bad" --parent "HSM CA" --key-uri "file:/x"
is "nothing stored for the refused ones" \
    "$("$CERTMINT" ca list 2>/dev/null | grep -c 'HSM Bad')" 0
check "ca create --key-uri under the token root" "$CERTMINT" ca create \
    "HSM Issuing" --parent "HSM CA" --key-uri "$IURI" --pathlen 0
is "the store keeps two URIs, no key" "$(sqlite3 "$CERTMINT_STORE" \
    'SELECT count(*) FROM keys WHERE uri IS NOT NULL AND pkcs8 IS NULL')" 2
check "issue under the token intermediate" "$CERTMINT" issue server \
    int.hsm.test --ca "HSM Issuing" --cert int.crt --key int.key \
    --chain int.chain
check "openssl verify -x509_strict: leaf, token intermediate, token root" \
    openssl verify -x509_strict -purpose sslserver -CAfile ca.pem \
    -untrusted int.chain int.crt
check "the intermediate carries the token key" sh -c "openssl x509 \
    -in int.chain -noout -text | grep -q 'NIST CURVE: P-384'"
"$CERTMINT" --store soft.db init --name "Soft Root" >/dev/null 2>&1
check "ca create --key-uri under a software root" "$CERTMINT" \
    --store soft.db ca create "Token Issuing" --parent "Soft Root" \
    --key-uri "$IURI"
check "issue under it" "$CERTMINT" --store soft.db issue client \
    bob@hsm.test --ca "Token Issuing" --cert bob.crt --key bob.key \
    --chain bob.chain
"$CERTMINT" --store soft.db ca show "Soft Root" --pem > soft.pem
check "openssl verify -x509_strict -purpose sslclient" openssl verify \
    -x509_strict -purpose sslclient -CAfile soft.pem -untrusted bob.chain \
    bob.crt
expect_fail 2 "PKCS#11 token and cannot be exported" "its key stays in" \
    "$CERTMINT" export "HSM CA" --format key --out k.pem
check "the PIN from the passphrase callback" env CERTMINT_PASSPHRASE=1234 \
    "$CERTMINT" init --name "HSM asked" --key-uri "$URI"
is "no PIN anywhere in the stores" "$(sqlite3 "$CERTMINT_STORE" .dump \
    | grep -ci 'pin-value'; sqlite3 soft.db .dump | grep -ci 'pin-value')" \
    "0
0"
expect_fail 4 "missing token PIN: none was given: use CERTMINT_PIN, --passphrase-file F or CERTMINT_PASSPHRASE" \
    "issuing without the PIN fails, and says how to give it" \
    env -u CERTMINT_PASSPHRASE "$CERTMINT" issue server nopin.test \
    --ca "HSM CA" --cert nopin.crt --key nopin.key
check_not "... and writes nothing" test -e nopin.crt

# A store with a passphrase and a CA in a token: the PIN comes through
# CERTMINT_PIN, the store passphrase through CERTMINT_PASSPHRASE.
echo storepass >sp
check "a store with a passphrase" "$CERTMINT" --store both.db init \
    --name "Pass Root" --passphrase-file sp
check "... a token intermediate under it (CERTMINT_PIN, CERTMINT_PASSPHRASE)" \
    env CERTMINT_PIN=1234 CERTMINT_PASSPHRASE=storepass "$CERTMINT" \
    --store both.db ca create "Both Issuing" --parent "Pass Root" \
    --key-uri "$IURI"
check "... issuing under it, its key kept encrypted in the store" \
    env CERTMINT_PIN=1234 CERTMINT_PASSPHRASE=storepass "$CERTMINT" \
    --store both.db issue server both.test --ca "Both Issuing" \
    --cert both.crt --key both.key
# At the terminal: the PIN prompt and the passphrase prompt get their own
# answers (the PIN was cached and handed out as the store passphrase).
if command -v python3 >/dev/null 2>&1; then
	check "... asked at the terminal: the PIN, then the store passphrase" \
	    env -u CERTMINT_PIN -u CERTMINT_PASSPHRASE PIN=1234 \
	    PASS=storepass python3 "$top_srcdir/tests/interop/pty_answer.py" \
	    "$CERTMINT" --store both.db issue server tty.test \
	    --ca "Both Issuing" --cert tty.crt --key tty.key
	check "... and the certificate is there" test -s tty.crt
fi
expect_fail 4 "missing token PIN|wrong or missing token PIN" \
    "... with the store passphrase alone the token stays closed" \
    env -u CERTMINT_PIN CERTMINT_PASSPHRASE=storepass "$CERTMINT" \
    --store both.db issue server both2.test --ca "Both Issuing" \
    --cert both2.crt --key both2.key
done_testing
