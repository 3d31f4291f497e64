#!/bin/sh
# diskfull.sh - a full disk under the output files or under the store: one
# line naming the object, a distinct exit code, no file left behind, no row
# half-written.  The full disk is a small tmpfs in a private mount
# namespace (as root, or in an unprivileged user namespace); skipped where
# neither is allowed.
if [ -z "${CM_IN_MNTNS:-}" ]; then
	for u in "unshare -m" "unshare -rm"; do
		if $u sh -c 'mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null ||
		    mount -t tmpfs -o size=64k tmpfs /tmp' 2>/dev/null; then
			CM_IN_MNTNS=1 exec $u env CM_IN_MNTNS=1 sh "$0" "$@"
		fi
	done
	echo "1..0 # SKIP no private mount namespace for a small tmpfs"
	exit 0
fi
. "$top_srcdir/tests/cli/lib.sh"
need sqlite3

C=$CERTMINT
cd "$WORK" || exit 1
M=$WORK/full
mkdir -p "$M"
mount -t tmpfs -o size=512k,mode=0755 tmpfs "$M" ||
	skip_all "cannot mount a tmpfs"
trap 'umount "$M" 2>/dev/null; rm -rf "$WORK"' EXIT

# fill: leave PAGES free 4 KiB pages on the tmpfs.
fill() {
	rm -f "$M/fill" "$M"/page.*
	i=0
	while [ "$i" -lt "$1" ]; do
		head -c 4096 /dev/zero > "$M/page.$i"; i=$((i + 1))
	done
	dd if=/dev/zero of="$M/fill" bs=4096 >/dev/null 2>&1
	rm -f "$M"/page.*
}
count() { sqlite3 "$1" 'SELECT count(*) FROM certs'; }
leftovers() { find "$1" -newer "$WORK/mark" -type f ! -name fill | wc -l; }

"$C" init >/dev/null 2>&1
"$C" issue server before.test --cert before.crt --key before.key \
    >/dev/null 2>&1
mkdir "$M/out"
n0=$(count "$CERTMINT_STORE")

# Output directory on a full disk: nothing written at all.
fill 0
touch "$WORK/mark"
expect_fail 2 "$M/out/full\.test\.(crt|key): .*(No space left|disk full)" \
    "output on a full disk: one line naming the file" \
    "$C" issue server full.test --cert "$M/out/full.test.crt" \
    --key "$M/out/full.test.key"
is "no file (nor temporary) in the output directory" "$(leftovers "$M")" 0
is "no row in the store" "$(count "$CERTMINT_STORE")" "$n0"

# Room for one file, not two: the first written is removed again.
fill 1
touch "$WORK/mark"
expect_fail 2 "$M/out/half\.test\.(crt|key): .*(No space left|disk full)" \
    "room for the key only: one line naming the file" \
    "$C" issue server half.test --cert "$M/out/half.test.crt" \
    --key "$M/out/half.test.key"
is "the file written first is gone again" "$(leftovers "$M")" 0
is "still no row in the store" "$(count "$CERTMINT_STORE")" "$n0"
rm -f "$M/fill"
check "with room again the same command succeeds" "$C" issue server \
    half.test --cert "$M/out/half.test.crt" --key "$M/out/half.test.key"
rm -rf "$M/out"

# The store itself on a full disk.
S=$M/store.db
"$C" --store "$S" issue server one.test --cert one.crt --key one.key \
    >/dev/null 2>&1
n1=$(count "$S")
is "a store on the tmpfs holds one certificate" "$n1" 1
fill 0
expect_fail 3 "store $S: disk full" "store on a full disk: exit 3, 'disk full'" \
    "$C" --store "$S" issue server two.test --cert two.crt --key two.key
check "no output file written" test ! -e two.crt -a ! -e two.key
rm -f "$M/fill"
is "the store is intact" "$(sqlite3 "$S" 'PRAGMA integrity_check')" ok
is "and holds what it held" "$(count "$S")" "$n1"
check "with room again the store takes the next certificate" "$C" \
    --store "$S" issue server two.test --cert two.crt --key two.key
umount "$M" 2>/dev/null
done_testing
