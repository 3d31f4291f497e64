#!/bin/sh
# store-perms.sh - the store holds the CA keys: a store another user could
# reach is refused at open, untouched, with one line saying what to run
# (issue 14, item 2); a fresh store, its -wal and -shm are 0600 whatever
# the umask.
. "$top_srcdir/tests/cli/lib.sh"
cd "$WORK" || exit 1

mode() { stat -c %a "$1"; }
sum() { cat "$@" 2>/dev/null | cksum; }

mkdir -m 700 s
S="$WORK/s/certmint.db"
export CERTMINT_STORE="$S"
# Under umask 000 everything certmint makes is still 0600 / 0700.
( umask 000; "$CERTMINT" init --name "Perm CA" >/dev/null 2>&1 &&
    "$CERTMINT" issue server a.test --cert a.crt --key a.key \
    >/dev/null 2>&1 )
is "init and issue under umask 000" "$?" 0
is "store 0600" "$(mode "$S")" 600
is "-wal 0600" "$(mode "$S-wal")" 600
is "-shm 0600" "$(mode "$S-shm")" 600
rm -rf "$WORK/fresh"
( umask 000; CERTMINT_STORE="$WORK/fresh/sub/c.db" "$CERTMINT" init \
    --name "Fresh CA" >/dev/null 2>&1 )
is "a new store's folders are 0700" "$(mode fresh) $(mode fresh/sub)" \
    "700 700"
is "... its file, -wal, -shm 0600" "$(mode fresh/sub/c.db) \
$(mode fresh/sub/c.db-wal) $(mode fresh/sub/c.db-shm)" "600 600 600"

# A WAL made again (an existing store whose -wal was folded away) is 0600.
check "list" "$CERTMINT" list
sqlite3 "$S" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 &&
    rm -f "$S-wal" "$S-shm"
( umask 000; "$CERTMINT" issue server b.test --cert b.crt --key b.key \
    >/dev/null 2>&1 )
is "a remade -wal and -shm are 0600" "$(mode "$S-wal") $(mode "$S-shm")" \
    "600 600"
# Side files left wider by an older certmint are set to 0600.
chmod 644 "$S-wal" "$S-shm"
check "a store whose -wal is 0644 opens" "$CERTMINT" list
is "... and its -wal and -shm are 0600 again" \
    "$(mode "$S-wal") $(mode "$S-shm")" "600 600"

# refused MODE-DESC CODE REGEX: the store is refused, left as it was (same
# bytes, no -wal made), by a reading command and a writing one.
refused() {
	_rd=$1 _re=$2
	rm -f "$S-wal" "$S-shm"
	_before=$(sum "$S")
	expect_fail 3 "$_re" "$_rd: list refused" "$CERTMINT" list
	expect_fail 3 "$_re" "$_rd: issue refused" "$CERTMINT" issue server \
	    c.test --cert c.crt --key c.key
	expect_fail 3 "$_re" "$_rd: status refused" "$CERTMINT" status
	is "$_rd: store untouched" "$(sum "$S")" "$_before"
	check "$_rd: no -wal or -shm made" sh -c \
	    "! test -e '$S-wal' && ! test -e '$S-shm'"
}
# Folded, so the file alone is the store (as a copy is).
"$CERTMINT" list >/dev/null 2>&1
sqlite3 "$S" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1

chmod 644 "$S"
refused "store 0644" "^certmint: store $S is readable by others \
\(mode 0644\): run 'chmod 600 $S'\$"
chmod 664 "$S"
refused "store 0664" "^certmint: store $S is writable by others \
\(mode 0664\): run 'chmod 600 $S'\$"
chmod 640 "$S"
refused "store 0640" "^certmint: store $S is readable by its group \
\(mode 0640\): run 'chmod 600 $S'\$"
chmod 600 "$S"
chmod 770 s
refused "folder 0770" "^certmint: store folder $WORK/s is writable by its \
group \(mode 0770\): run 'chmod 700 $WORK/s'\$"
chmod 1777 s
refused "folder 1777" "^certmint: store folder $WORK/s is shared \
\(mode 1777\): .*move the store into a folder of its own"
chmod 755 s
check "a folder that is merely 0755 is fine" "$CERTMINT" list
chmod 700 s

# The README's backup recipe makes a copy that opens.
if command -v sqlite3 >/dev/null 2>&1; then
	( umask 022; cd s && (umask 077; sqlite3 certmint.db \
	    ".backup copy.db") )
	is "README backup recipe: the copy is 0600" "$(mode s/copy.db)" 600
	check "... and opens" "$CERTMINT" --store "$WORK/s/copy.db" list
	( cd s && sqlite3 certmint.db ".backup plain.db" )
	chmod 644 s/plain.db
	expect_fail 3 "plain.db is readable by others" \
	    "a 0644 .backup copy is refused" "$CERTMINT" --store \
	    "$WORK/s/plain.db" list
fi

# Another user's store or folder: root is held to the rule too.
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	done_testing
	exit $?
fi
me=$(id -un)
chown nobody "$S"
refused "store owned by nobody" "^certmint: store $S is owned by nobody, \
not by $me: refusing a store another user can read or replace \
\(if it is yours, run 'chown $me $S'\)\$"
chown "$me" "$S"
chown nobody s
refused "folder owned by nobody" "^certmint: store folder $WORK/s is owned \
by nobody, not by $me"
chown "$me" s
check "the store is usable again once its own" "$CERTMINT" list
# The reproduction: nobody makes a store in a shared 1777 folder, root
# uses it.
mkdir -m 1777 shared
chmod 711 "$WORK"
runuser -u nobody -- env CERTMINT_STORE="$WORK/shared/n/certmint.db" \
    "$CERTMINT" init --name "Nobody CA" >/dev/null 2>&1
is "nobody made a store in a 1777 folder" "$?" 0
expect_fail 3 "store folder $WORK/shared/n is owned by nobody" \
    "root refuses to use it" env CERTMINT_STORE="$WORK/shared/n/certmint.db" \
    "$CERTMINT" issue server r.test --cert r.crt --key r.key
check "no certificate issued" sh -c "! test -e r.crt"
expect_fail 3 "store folder $WORK/shared is shared \(mode 1777\)" \
    "root's own store in a 1777 folder is refused" env \
    CERTMINT_STORE="$WORK/shared/root.db" "$CERTMINT" init --name "Root CA"
check "... and not made" sh -c "! test -e '$WORK/shared/root.db'"
chmod 700 "$WORK"
done_testing
