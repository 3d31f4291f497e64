#!/bin/sh
# keys-passwd.sh - the store passphrase: no key in clear in a store that
# has one; passwd sets, changes and removes it in one transaction.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need sqlite3
cd "$WORK" || exit 1

# Every keys.pkcs8 blob, one DER file each; prints how many.
dump_keys() {
	rm -rf blobs && mkdir blobs
	sqlite3 "$CERTMINT_STORE" "SELECT writefile('blobs/' || id || '.der', \
	    pkcs8) FROM keys WHERE pkcs8 IS NOT NULL" >/dev/null
	ls blobs | wc -l | tr -d ' '
}
# How many blobs openssl opens without a password.
clear_keys() {
	n=0
	for f in blobs/*.der; do
		openssl pkey -inform DER -in "$f" -passin pass: -noout \
		    2>/dev/null && n=$((n + 1))
	done
	echo $n
}

echo 'first-pass' > p1
echo 'second-pass' > p2
check "init with a passphrase" "$CERTMINT" init --name "PW CA" \
    --passphrase-file p1
export CERTMINT_PASSPHRASE=first-pass
check "issue two certificates (keys kept)" "$CERTMINT" issue server \
    a.test --cert a.crt --key a.key
check "issue b" "$CERTMINT" issue client b.test --cert b.crt --key b.key
is "three keys in the store" "$(dump_keys)" 3
is "sqlite3 .dump: no key opens without a password" "$(clear_keys)" 0
check "no PRIVATE KEY text in the dump" sh -c \
    "! sqlite3 '$CERTMINT_STORE' .dump | grep -q 'PRIVATE KEY'"
# PBES2 with PBKDF2 and at least 600000 iterations, AES-256.
openssl asn1parse -inform DER -in blobs/1.der > asn1.txt
check "PBES2" grep -q PBES2 asn1.txt
check "PBKDF2 with HMAC-SHA256" grep -q hmacWithSHA256 asn1.txt
check "AES-256-CBC" grep -q aes-256-cbc asn1.txt
is "600000 iterations" "$(grep -m1 'prim: INTEGER' asn1.txt | \
    sed 's/.*://')" "0927C0"
check "the passphrase opens them" openssl pkey -inform DER -in blobs/2.der \
    -passin pass:first-pass -noout

# A second CA must use the same passphrase.
expect_fail 4 "store: wrong passphrase" "second CA with another passphrase" \
    env CERTMINT_PASSPHRASE=other "$CERTMINT" init --name "Other CA"
check "second CA with the store passphrase" "$CERTMINT" init --name "CA 2"
is "four keys, none in clear" "$(dump_keys) $(clear_keys)" "4 0"

# Change: wrong old passphrase changes nothing.
cp "$CERTMINT_STORE" before.db
expect_fail 4 "wrong passphrase.*nothing changed" "passwd with a wrong one" \
    env CERTMINT_PASSPHRASE=nope "$CERTMINT" passwd --new-passphrase-file p2
dump_keys >/dev/null
check "keys still open with the old passphrase" openssl pkey -inform DER \
    -in blobs/1.der -passin pass:first-pass -noout
check "passwd changes it" "$CERTMINT" passwd --new-passphrase-file p2
cp "$WORK/out" pw.out
check "reports every key" grep -q "Changed the store passphrase: 4 keys" \
    pw.out
dump_keys >/dev/null
check "old passphrase no longer opens a key" sh -c "! openssl pkey -inform \
    DER -in blobs/3.der -passin pass:first-pass -noout 2>/dev/null"
check "new one does" openssl pkey -inform DER -in blobs/3.der \
    -passin pass:second-pass -noout
is "none in clear after the change" "$(clear_keys)" 0
expect_fail 4 "wrong passphrase" "issuing with the old passphrase fails" \
    "$CERTMINT" issue server c.test --ca "PW CA"
CERTMINT_PASSPHRASE=second-pass check "issuing with the new one works" \
    "$CERTMINT" issue server c.test --ca "PW CA" --cert c.crt --key c.key
CERTMINT_PASSPHRASE=second-pass check "exporting a kept key works" \
    "$CERTMINT" export a.test --format key --out a2.key
is "kept key is the issued one" "$(openssl pkey -in a2.key -pubout | \
    openssl sha256)" "$(openssl pkey -in a.key -pubout | openssl sha256)"

# Remove, then set again.
CERTMINT_PASSPHRASE=second-pass check "passwd --remove" "$CERTMINT" passwd \
    --remove
cp "$WORK/out" rm.out
check "... says the keys are in the clear now" grep -q \
    "Removed the store passphrase: 5 keys decrypted (kept in the clear)" \
    rm.out
is "all keys in clear now" "$(dump_keys) $(clear_keys)" "5 5"
unset CERTMINT_PASSPHRASE
expect_fail 2 "unencrypted: set a passphrase for all of them" \
    "init with a passphrase on a clear store" \
    env CERTMINT_PASSPHRASE=x "$CERTMINT" init --name "CA 3"
# A key kept in the clear is in the WAL's frames until they are folded
# and overwritten: passwd wipes the WAL, so that the key as it was is in
# neither file afterwards.
check "issue in the clear store (its key kept)" "$CERTMINT" issue server --ca "PW CA" \
    d.test --cert d.crt --key d.key
# How many times d.key's private scalar is in a file.
scalar_in() {
	python3 -c 'import subprocess, sys
t = subprocess.run(["openssl", "ec", "-in", sys.argv[2], "-text", "-noout"],
    capture_output=True, text=True, check=True).stdout
h = bytes.fromhex("".join(t.split("priv:")[1].split("pub:")[0].split())
    .replace(":", ""))[-32:]
print(open(sys.argv[1], "rb").read().count(h))' "$1" d.key
}
if command -v python3 >/dev/null 2>&1; then
	check "the key in the clear is in the WAL" \
	    test "$(scalar_in "$CERTMINT_STORE-wal")" -ge 1
fi
check "passwd sets one" "$CERTMINT" passwd --new-passphrase-file p1
cp "$WORK/out" pw.out
check "reports it" grep -q "Set the store passphrase: 6 keys encrypted" pw.out
if command -v python3 >/dev/null 2>&1; then
	is "... and the key as it was is not in the WAL" \
	    "$(scalar_in "$CERTMINT_STORE-wal")" 0
	is "... nor in the store file" "$(scalar_in "$CERTMINT_STORE")" 0
fi
is "none in clear again" "$(dump_keys) $(clear_keys)" "6 0"
expect_fail 2 "no passphrase to remove" "remove twice" sh -c \
    "CERTMINT_PASSPHRASE=first-pass '$CERTMINT' passwd --remove && \
    '$CERTMINT' passwd --remove"
check "--help" "$CERTMINT" passwd --help
done_testing
