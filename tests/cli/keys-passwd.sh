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

# passwd leaves no plaintext behind (issue 14, item 5): killed between
# re-encrypting and wiping, the next command finishes the wipe; with
# another program reading, it fails naming it, status says the wipe is
# pending, and the first command after the reader ends does it.
if ! command -v python3 >/dev/null 2>&1 ||
    ! python3 -c 'import sqlite3' 2>/dev/null; then
	done_testing
	exit $?
fi
cat >keys.py <<'PY'
import os, subprocess, sqlite3, sys
# save STORE DIR: each key's PKCS#8 (in the clear), read-only (a read-only
# connection never folds the WAL).  count DIR FILE...: how many times the
# private value of a saved key is in the files.
if sys.argv[1] == "save":
    c = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
    os.makedirs(sys.argv[3], exist_ok=True)
    for i, der in c.execute("SELECT id, pkcs8 FROM keys"):
        open(os.path.join(sys.argv[3], "%d.der" % i), "wb").write(der)
    c.close()
    sys.exit(0)
n = 0
for k in sorted(os.listdir(sys.argv[2])):
    t = subprocess.run(["openssl", "pkey", "-inform", "DER", "-in",
        os.path.join(sys.argv[2], k), "-text", "-noout"],
        capture_output=True, text=True, check=True).stdout
    h = bytes.fromhex("".join(t.split("priv:")[1].split("pub:")[0].split())
        .replace(":", ""))[-32:]
    der = open(os.path.join(sys.argv[2], k), "rb").read()
    for f in sys.argv[3:]:
        if os.path.exists(f):
            b = open(f, "rb").read()
            n += b.count(h) + b.count(der)
print(n)
PY
# fresh NAME: a store of its own with a CA and a leaf, keys in the clear
# (saved in NAME.keys).
fresh() {
	mkdir -m 700 "$1"
	export CERTMINT_STORE="$WORK/$1/certmint.db"
	unset CERTMINT_PASSPHRASE
	"$CERTMINT" init --name "Wipe CA" >/dev/null 2>&1 &&
	    "$CERTMINT" issue server w.test --cert "$1/w.crt" \
	    --key "$1/w.key" >/dev/null 2>&1 &&
	    python3 keys.py save "$CERTMINT_STORE" "$1.keys"
}
left() {
	python3 keys.py count "$1.keys" "$WORK/$1/certmint.db" \
	    "$WORK/$1/certmint.db-wal"
}
# Is the build a test build with failpoints?
fresh probe
CERTMINT_FAILPOINT_LOG="$WORK/fp.log" CERTMINT_NEW_PASSPHRASE=p \
    "$CERTMINT" passwd >/dev/null 2>&1
if grep -q '^passwd\.after_reencrypt$' fp.log 2>/dev/null; then
	for p in after_reencrypt before_wipe during_wipe; do
		check "passwd reaches passwd.$p" grep -q "^passwd\.$p\$" fp.log
	done
	is "a plain passwd leaves no old key" "$(left probe)" 0
	for p in after_reencrypt before_wipe during_wipe; do
		fresh "k-$p"
		is "$p: the keys are in the clear before" \
		    "$(test "$(left "k-$p")" -gt 0 && echo yes)" yes
		CERTMINT_FAILPOINT="passwd.$p" CERTMINT_NEW_PASSPHRASE=p2 \
		    "$CERTMINT" passwd >/dev/null 2>&1
		is "passwd killed at passwd.$p" "$?" 137
		is "... the old keys are still in the files" \
		    "$(test "$(left "k-$p")" -gt 0 && echo yes)" yes
		check "$p: the next command runs" "$CERTMINT" status --json
		cp "$WORK/out" st.json
		check "... no wipe pending" python3 -c 'import json, sys
sys.exit(json.load(open("st.json"))["wipe_pending"] is not False)'
		is "... no old key left in certmint.db and its -wal" \
		    "$(left "k-$p")" 0
		CERTMINT_PASSPHRASE=p2 check "... the new passphrase opens \
the keys" "$CERTMINT" export w.test --format key --out "k-$p/w2.key"
	done
	# A failed wipe (an I/O error) is pending too, then done.
	fresh k-fail
	expect_fail 3 "^certmint: passphrase set \(2 keys\), not yet wiped: " \
	    "a wipe that fails says so" env CERTMINT_FAILPOINT=\
passwd.during_wipe:fail CERTMINT_NEW_PASSPHRASE=p2 "$CERTMINT" passwd
	check "... the next command wipes" "$CERTMINT" list
	is "... no old key left" "$(left k-fail)" 0
else
	ok "# SKIP not a build with failpoints (--enable-failpoints)"
fi

# Another program reading: passwd fails naming it after the busy timeout.
fresh reader
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM keys").fetchall()
open(sys.argv[2], "w").close()
time.sleep(30)' "$CERTMINT_STORE" reading &
rpid=$!
i=0
while [ ! -e reading ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_fail 3 "^certmint: passphrase set \(2 keys\), not yet wiped: \
$WORK/reader/certmint\.db-wal still holds the old keys: process [0-9]+ \
\(python[0-9.]*\) is reading the store \(the wipe is pending; " \
    "passwd with a reader: fails naming it" env CERTMINT_BUSY_TIMEOUT=200 \
    CERTMINT_NEW_PASSPHRASE=p2 "$CERTMINT" passwd
check "status says the wipe is pending" "$CERTMINT" status
out_has "... in words" "^Key wipe pending"
check "status --json" "$CERTMINT" status --json
cp "$WORK/out" st.json
check "... wipe_pending true" python3 -c 'import json, sys
sys.exit(json.load(open("st.json"))["wipe_pending"] is not True)'
kill -9 $rpid 2>/dev/null
wait $rpid 2>/dev/null
check "once the reader is gone, the next command wipes" "$CERTMINT" list
is "... no old key left" "$(left reader)" 0
check "status --json" "$CERTMINT" status --json
cp "$WORK/out" st.json
check "... wipe_pending false" python3 -c 'import json, sys
sys.exit(json.load(open("st.json"))["wipe_pending"] is not False)'
CERTMINT_PASSPHRASE=p2 check "the new passphrase stands" "$CERTMINT" \
    export w.test --format key --out reader/w2.key
done_testing
