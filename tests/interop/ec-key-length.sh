#!/bin/sh
# ec-key-length.sh - every EC private key certmint writes has the fixed
# length RFC 5915 wants for its privateKey: 32, 48, 66 octets for P-256,
# P-384, P-521 (issue 14, item 6).  GnuTLS 3.7 writes the scalar as an
# INTEGER (33 octets when its top bit is set, 65 when a P-521 scalar's
# top octet is zero), which Python cryptography 48 refuses: about half of
# them.  200 key files of each curve, the keys the store keeps (plain and
# PBES2-encrypted), and a PKCS#12, read by an independent DER walk
# (ec_key_length.py), openssl and Python cryptography where installed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need python3
need sqlite3
C=$CERTMINT
py="$top_srcdir/tests/interop/ec_key_length.py"
N=${EC_KEYS:-200}
cd "$WORK" || exit 1

check "init" $C init
for curve in p256:32 p384:48 p521:66; do
	kt=ec-${curve%%:*}
	want=${curve#*:}
	i=0
	: >"$WORK/batch-$kt"
	while [ $i -lt "$N" ]; do
		echo "server k$i.$kt.test" >>"$WORK/batch-$kt"
		i=$((i + 1))
	done
	mkdir "$WORK/out-$kt"
	check "$N $kt keys in one batch" $C issue --batch "$WORK/batch-$kt" \
	    --out-dir "$WORK/out-$kt" --key-type "$kt"
	is "... every key file's privateKey is $want octets" \
	    "$(python3 "$py" pem "$WORK"/out-"$kt"/*.key 2>&1)" "$want $N"
	sqlite3 "$CERTMINT_STORE" "SELECT hex(k.pkcs8) FROM keys k JOIN certs \
	    c ON c.key_id = k.id WHERE c.key_type = '$kt' AND \
	    k.encrypted = 0" >"$WORK/kept-$kt"
	is "... and so is every key the store keeps" \
	    "$(python3 "$py" der "$WORK/kept-$kt" 2>&1)" "$want $N"
	bad=0
	for k in "$WORK"/out-"$kt"/*.key; do
		openssl pkey -in "$k" -check -noout >/dev/null 2>&1 ||
			bad=$((bad + 1))
	done
	is "... openssl pkey -check takes all $N" "$bad" 0
	if python3 -c 'import cryptography' 2>/dev/null; then
		is "... Python cryptography loads all $N" "$(python3 -c '
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
bad = 0
for f in sys.argv[1:]:
    try:
        load_pem_private_key(open(f, "rb").read(), None)
    except Exception:
        bad += 1
print(bad)' "$WORK"/out-"$kt"/*.key 2>&1)" 0
	else
		ok "# SKIP Python cryptography is not installed"
	fi
done

# A store with a passphrase keeps PBES2-encrypted keys: certmint's own
# encoding (GnuTLS's would undo the fixed length), read back by GnuTLS
# (export) and decrypted here by Python.
E="$WORK/enc.db"
printf 'correct horse\n' >"$WORK/pass"
check "init with a passphrase" $C --store "$E" init --passphrase-file \
    "$WORK/pass"
i=0
: >"$WORK/batch-enc"
while [ $i -lt 12 ]; do
	echo "server e$i.test" >>"$WORK/batch-enc"
	i=$((i + 1))
done
mkdir "$WORK/out-enc"
check "12 P-521 keys under an encrypted CA" $C --store "$E" issue --batch \
    "$WORK/batch-enc" --out-dir "$WORK/out-enc" --key-type ec-p521 \
    --passphrase-file "$WORK/pass"
sqlite3 "$E" "SELECT hex(pkcs8) FROM keys WHERE encrypted = 1" \
    >"$WORK/kept-enc"
is "the store keeps 13 encrypted keys (the CA's and 12)" \
    "$(wc -l <"$WORK/kept-enc" | tr -d ' ')" 13
if python3 -c 'import cryptography' 2>/dev/null; then
	# The CA key is P-256, the others P-521.
	is "... each decrypts (PBES2, PBKDF2-SHA256 600,000 rounds, AES-256) to a fixed-length key" \
	    "$(python3 "$py" enc 'correct horse' "$WORK/kept-enc" 2>&1 |
	    tr '\n' ' ')" "32 1 66 12 "
else
	ok "# SKIP Python cryptography is not installed"
fi
check "GnuTLS reads certmint's encryption back (export --format key)" \
    $C --store "$E" export e3.test --format key --out "$WORK/e3.key" \
    --passphrase-file "$WORK/pass"
is "... a fixed-length key" "$(python3 "$py" pem "$WORK/e3.key")" "66 1"
check "... the key of e3.test's certificate" sh -c "
    openssl x509 -in '$WORK/out-enc/e3.test.crt' -noout -pubkey >'$WORK/a'
    openssl pkey -in '$WORK/e3.key' -pubout >'$WORK/b'
    cmp -s '$WORK/a' '$WORK/b'"
expect_fail 4 'wrong passphrase' "a wrong passphrase is still refused" \
    sh -c "printf 'wrong\n' >'$WORK/bad'; $C --store '$E' export e3.test \
    --format key --out '$WORK/x.key' --passphrase-file '$WORK/bad'"

# PKCS#12 (the modern profile) carries certmint's PKCS#8 too.
printf 'p12 secret\n' >"$WORK/p12pass"
check "export a P-521 key as PKCS#12" $C --store "$E" export e5.test \
    --format p12 --out "$WORK/e5.p12" --password-file "$WORK/p12pass" \
    --passphrase-file "$WORK/pass"
check "... openssl reads it" openssl pkcs12 -in "$WORK/e5.p12" -nodes \
    -passin pass:'p12 secret' -out "$WORK/e5.pem"
if python3 -c 'import cryptography' 2>/dev/null; then
	check "... and Python cryptography" python3 -c '
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
k, c, _ = pkcs12.load_key_and_certificates(open(sys.argv[1], "rb").read(),
    b"p12 secret")
assert k.curve.name == "secp521r1" and c is not None' "$WORK/e5.p12"
else
	ok "# SKIP Python cryptography is not installed"
fi
done_testing
