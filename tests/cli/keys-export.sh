#!/bin/sh
# keys-export.sh - certmint export: every format, both PKCS#12 profiles
# opened by OpenSSL and keytool, truststore, refusals.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
cd "$WORK" || exit 1

echo 'store-secret' > pp
echo 'export-pw' > ep
echo 'wrong-pw' > bad
check "init with a passphrase" "$CERTMINT" init --name "Export CA" \
    --passphrase-file pp
export CERTMINT_PASSPHRASE=store-secret
check "issue localhost" "$CERTMINT" issue server localhost 127.0.0.1 \
    --cert l.crt --key l.key

check "export pem" "$CERTMINT" export localhost --format pem --out e.pem
is "pem is the issued certificate" "$(cmp -s e.pem l.crt && echo same)" same
check "export der" "$CERTMINT" export localhost --format der --out e.der
check "der parses" openssl x509 -inform DER -in e.der -noout
check "export fullchain to stdout" sh -c \
    "'$CERTMINT' export localhost --format fullchain > full.pem"
is "fullchain has leaf and root" "$(grep -c 'BEGIN CERTIFICATE' full.pem)" 2
check "export chain (root excluded: empty)" sh -c \
    "'$CERTMINT' export localhost --format chain > chain.pem"
is "chain is empty under a root" "$(wc -c < chain.pem | tr -d ' ')" 0
check "export key" "$CERTMINT" export localhost --format key --out e.key
is "key file is 0600" "$(stat -c %a e.key)" 600
is "key matches the certificate" \
    "$(openssl pkey -in e.key -pubout | openssl sha256)" \
    "$(openssl x509 -in l.crt -pubkey -noout | openssl sha256)"

check "export p12 (default profile)" "$CERTMINT" export localhost \
    --format p12 --out a.p12 --password-file ep
is "p12 is 0600" "$(stat -c %a a.p12)" 600
check "openssl opens the default p12" openssl pkcs12 -info -in a.p12 \
    -passin file:ep -nodes -out a.out
openssl pkcs12 -info -in a.p12 -passin file:ep -noout >a.info 2>&1
check "default p12: PBES2 AES-256-CBC" grep -q "AES-256-CBC" a.info
check "default p12: SHA-256 MAC" grep -q "MAC: sha256" a.info
check "default p12: 600000 PBKDF2 iterations" grep -q "Iteration 600000" a.info
check "default p12: friendly name" grep -q "friendlyName: localhost" a.out
check "default p12 key matches" sh -c "openssl pkey -in a.out -pubout | \
    cmp -s - \$(openssl x509 -in l.crt -pubkey -noout > lp.pem; echo lp.pem)"

CERTMINT_EXPORT_PASSWORD=export-pw check "export p12 --legacy (env password)" \
    "$CERTMINT" export localhost --format p12 --legacy --out b.p12
if openssl pkcs12 -info -in b.p12 -passin file:ep -noout >b.info 2>&1 ||
    openssl pkcs12 -legacy -info -in b.p12 -passin file:ep -noout \
    >b.info 2>&1; then ok "openssl opens the legacy p12"
else not_ok "openssl opens the legacy p12"; diag b.info; fi
check "legacy p12: 3DES" grep -q "TripleDES" b.info
check "legacy p12: SHA-1 MAC" grep -q "MAC: sha1" b.info
check_not "wrong password does not open it" openssl pkcs12 -info -in a.p12 \
    -passin file:bad -noout

check "export truststore (--no-key) of the CA" "$CERTMINT" export \
    "Export CA" --format p12 --no-key --out t.p12 --password-file ep
is "truststore is 0644" "$(stat -c %a t.p12)" 644
openssl pkcs12 -info -in t.p12 -passin file:ep -nodes -out t.out 2>/dev/null
is "truststore has no key" "$(grep -c 'PRIVATE KEY' t.out)" 0
is "truststore has the CA" "$(grep -c 'BEGIN CERTIFICATE' t.out)" 1

if command -v keytool >/dev/null 2>&1; then
	for f in a b; do
		check "keytool lists $f.p12" keytool -list -keystore $f.p12 \
		    -storetype PKCS12 -storepass:file ep
		cp "$WORK/out" kt.out
		check "$f.p12 holds a PrivateKeyEntry" grep -q PrivateKeyEntry \
		    kt.out
	done
	check "keytool lists the truststore" keytool -list -keystore t.p12 \
	    -storetype PKCS12 -storepass:file ep
	cp "$WORK/out" kt.out
	check "truststore entry is trusted" grep -q trustedCertEntry kt.out
else
	ok "# SKIP keytool not installed"
fi

# Refusals: exit code and one-line message.
expect_fail 4 "wrong passphrase" "wrong store passphrase writes nothing" \
    env CERTMINT_PASSPHRASE=nope "$CERTMINT" export localhost --format p12 \
    --out w.p12 --password-file ep
is "no file after a wrong passphrase" "$(ls w.p12* 2>/dev/null)" ""
expect_fail 2 "file exists" "existing --out without --force" \
    "$CERTMINT" export localhost --format pem --out e.pem
expect_fail 2 "neither a certificate" "unknown reference" \
    "$CERTMINT" export nosuch.test --format pem
expect_fail 2 "format 'xml' is unknown" "unknown format" \
    "$CERTMINT" export localhost --format xml
expect_fail 2 "apply to --format p12" "--legacy without p12" \
    "$CERTMINT" export localhost --format pem --legacy
expect_fail 2 "empty password file" "empty password file" \
    sh -c ": > empty; '$CERTMINT' export localhost --format p12 --out x.p12 \
    --password-file empty"
check "issue without keeping the key" "$CERTMINT" issue server nokey.test \
    --no-keep-key --cert n.crt --key n.key
expect_fail 2 "not kept in the store" "p12 of a certificate without key" \
    "$CERTMINT" export nokey.test --format p12 --out n.p12 --password-file ep
check "its certificates-only p12 works" "$CERTMINT" export nokey.test \
    --format p12 --no-key --out n.p12 --password-file ep
if command -v script >/dev/null 2>&1; then
	script -qec "'$CERTMINT' export localhost --format der" /dev/null \
	    >tty.out 2>&1
	check "der to a terminal is refused" grep -q "will not write der to a \
terminal" tty.out
fi
# An intermediate CA's name means the CA, although its certificate is in
# the inventory too (issued by its parent, no key there).
ic() { CERTMINT_STORE="$WORK/int.db" "$CERTMINT" "$@"; }
check "a root and an intermediate CA" sh -c "'$CERTMINT' --store \
    '$WORK/int.db' init --name Root && '$CERTMINT' --store '$WORK/int.db' \
    ca create Issuing --parent Root"
check "its key exports by name" sh -c \
    "'$CERTMINT' --store '$WORK/int.db' export Issuing --format key \
    >issuing.key"
ic export Issuing --format pem >issuing.crt
check "... a key and a certificate" test -s issuing.key -a -s issuing.crt
is "... that match" \
    "$(openssl pkey -in issuing.key -pubout 2>/dev/null | sha256sum)" \
    "$(openssl x509 -in issuing.crt -noout -pubkey | sha256sum)"
check "its p12 with the key" ic export Issuing --format p12 \
    --out issuing.p12 --password-file ep
ic export issuing --format key >issuing-lc.key 2>"$WORK/err"
is "... by its name in another case, the same key" \
    "$(sha256sum <issuing-lc.key)" "$(sha256sum <issuing.key)"
isn=$(ic ca show Issuing --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["serial"])')
ic export "$isn" --format key >issuing-sn.key 2>"$WORK/err"
is "... by its serial, the same key" \
    "$(sha256sum <issuing-sn.key)" "$(sha256sum <issuing.key)"

# bundle: what a server sends (leaf, then intermediates, no root).
ic issue server web.test --ca Issuing --cert web.crt --key web.key \
    >/dev/null 2>&1
ic export web.test --format bundle >bundle.pem
ic ca show Root --pem >root.pem
is "bundle of a leaf under an intermediate: leaf, intermediate" \
    "$(openssl crl2pkcs7 -nocrl -certfile bundle.pem | openssl pkcs7 \
    -print_certs -noout | sed -n 's/^subject=.*CN *= *//p' | tr '\n' ' ')" \
    "web.test Issuing "
check "... which openssl verifies against the root alone" openssl verify \
    -x509_strict -CAfile root.pem -untrusted bundle.pem bundle.pem
ic issue server top.test --ca Root --cert top.crt --key top.key >/dev/null 2>&1
is "bundle of a leaf under the root: the leaf alone" \
    "$(ic export top.test --format bundle | grep -c BEGIN)" 1
ic revoke Issuing --reason cACompromise >/dev/null 2>&1
ic export Issuing --format key >issuing-rev.key 2>"$WORK/err"
is "a revoked intermediate's key still exports (it cannot sign)" \
    "$(sha256sum <issuing-rev.key)" "$(sha256sum <issuing.key)"
# Two CAs whose names differ in case only: each name means its own CA.
ic ca create issuing --parent Root >/dev/null 2>&1
ic export issuing --format key >lower.key 2>"$WORK/err"
is "'issuing' beside 'Issuing': its own key" \
    "$(openssl pkey -in lower.key -pubout 2>/dev/null | sha256sum)" \
    "$(ic ca show issuing --pem | openssl x509 -noout -pubkey | sha256sum)"
ic export Issuing --format key >upper.key 2>"$WORK/err"
is "... and 'Issuing' still its own" \
    "$(sha256sum <upper.key)" "$(sha256sum <issuing.key)"
check "--help" "$CERTMINT" export --help
done_testing
