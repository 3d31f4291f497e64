#!/bin/sh
# store.sh - the SQLite store: schema version, WAL, busy timeout with
# concurrent writers, BEGIN IMMEDIATE, file modes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need sqlite3
C=$CERTMINT
S=$CERTMINT_STORE
cd "$WORK" || exit 1

check "certmint version" $C version
cp "$WORK/out" "$WORK/version"
latest=$(sed -n 's/.*store schema \([0-9][0-9]*\).*/\1/p' "$WORK/version")
check "version names the store schema" test -n "$latest"
check "init" sh -c "umask 022; $C init"
is "PRAGMA user_version is the schema certmint version names" \
    "$(sqlite3 "$S" 'PRAGMA user_version')" "$latest"
is "the embedded migrations are all applied (one per db/*.sql)" "$latest" \
    "$(ls "$top_srcdir"/db/[0-9]*.sql | wc -l)"
is "journal_mode is WAL" "$(sqlite3 "$S" 'PRAGMA journal_mode')" wal
is "store file 0600 under umask 022" "$(stat -c %a "$S")" 600
check "the store passes integrity_check" sh -c \
    "test \"\$(sqlite3 '$S' 'PRAGMA integrity_check')\" = ok"
check "foreign keys hold" sh -c \
    "test -z \"\$(sqlite3 '$S' 'PRAGMA foreign_key_check')\""
for tbl in cas certs keys events; do
	check "table $tbl exists" sqlite3 "$S" "select count(*) from $tbl"
done

# The WAL and its index stay beside the store (making them anew on every
# command cost a millisecond), 0600.  A commit is on disk in the WAL when
# certmint returns; the WAL is folded into the store file by the write that
# takes it past about ten issuances, so at rest it holds the last few.
R="$WORK/rest/s.db"
check "issue (a store of its own)" \
    $C --store "$R" issue server atrest.test --cert "$WORK/atrest.crt"
check "the WAL holds the issuance at rest" test -s "$R-wal"
is "the WAL is 0600" "$(stat -c %a "$R-wal")" 600
is "its -shm is 0600" "$(stat -c %a "$R-shm")" 600
mkdir "$WORK/copy"
check "sqlite3 .backup copies the store whole" \
    sh -c "umask 077; sqlite3 '$R' \".backup '$WORK/copy/backup.db'\""
check "... the copy opens" \
    sh -c "$C --store '$WORK/copy/backup.db' show atrest.test --pem >'$WORK/copied.crt'"
check "... and has the certificate just issued" \
    cmp "$WORK/copied.crt" "$WORK/atrest.crt"
# A write that takes the WAL past the fold size folds it: then the store
# file alone is whole, and the WAL, kept, has a blank header (SQLite reads
# it as empty; the next commit writes over it in place).
# blank STORE: STORE's WAL has a blank header.
blank() { [ -z "$(od -v -An -N32 -tx1 "$1-wal" | tr -d ' \n0')" ]; }
n=0
while [ $n -lt 40 ]; do
	n=$((n + 1))
	$C --store "$R" issue server "fold$n.test" --cert "$WORK/fold.crt" \
	    --key "$WORK/fold$n.key" --force >/dev/null || break
	blank "$R" && break
done
check "within 40 issuances one folds the WAL (its header is blank)" blank "$R"
check "... the WAL file is kept" test -f "$R-wal"
cp "$R" "$WORK/copy/only.db"
check "a copy of the store file alone opens" \
    sh -c "$C --store '$WORK/copy/only.db' show fold$n.test --pem >'$WORK/copied.crt'"
check "... and has the certificate of the write that folded" \
    cmp "$WORK/copied.crt" "$WORK/fold.crt"
check "... and the first one" \
    $C --store "$WORK/copy/only.db" show atrest.test
check "the next issue writes over the blank WAL" \
    $C --store "$R" issue server afterfold.test --cert "$WORK/after.crt"
check "... and is read back" sh -c \
    "$C --store '$R' show afterfold.test --pem | cmp - '$WORK/after.crt'"
# A batch makes the WAL long; folded, it is cut back to 1 MiB.
B="$WORK/big/s.db"
python3 -c 'for i in range(900): print("server big%d.test" % i)' \
    >"$WORK/big.batch" 2>/dev/null ||
    awk 'BEGIN { for (i = 0; i < 900; i++) print "server big" i ".test" }' \
    >"$WORK/big.batch"
mkdir -p "$WORK/big/out"
check "a batch of 900" $C --store "$B" issue --batch "$WORK/big.batch" \
    --out "$WORK/big/out"
is "... leaves a WAL of 1 MiB" "$(stat -c %s "$B-wal")" 1048576
check "... with a blank header" blank "$B"
is "... and all 900 in the store file alone" \
    "$(cp "$B" "$WORK/copy/big.db" && $C --store "$WORK/copy/big.db" list --json |
    grep -o '"serial"' | wc -l | tr -d ' ')" 900
check "the store passes integrity_check after the fold" sh -c \
    "test \"\$(sqlite3 '$R' 'PRAGMA integrity_check')\" = ok"
# (The sqlite3 shell deletes the WAL and -shm when it closes.)
check "ca list makes them again" $C --store "$R" ca list
# What reaches the disk (strace -y names each descriptor's file): a write
# syncs the WAL, and only the WAL, even while another program has the
# store open (SQLite's synchronous=NORMAL would sync it only when the last
# connection folds the WAL in); a WAL that is there is opened as it is,
# without the folder sync SQLite makes after opening one with create; a
# WAL that is made (the sqlite3 shell deletes them) gets its folder synced
# at once, even by a command that only reads.
if command -v strace >/dev/null 2>&1 &&
    strace -o /dev/null true >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace (a sanitizer build would
	# abort at exit): leaks are checked by every other test.
	syncs() {
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		    strace -f -y -e trace=fsync,fdatasync${SYNCS_WRITES:+,pwrite64} \
		    -o "$WORK/syncs" "$@"
	}
	# ... and the writes.
	syncs_writes() {
		SYNCS_WRITES=1
		syncs "$@"
		set -- $?
		unset SYNCS_WRITES
		return "$1"
	}
	# The WAL the ca list above made is empty: who made it cannot be
	# told, so its folder is synced.
	check "issue, traced" \
	    syncs $C --store "$R" issue server synced.test --cert "$WORK/s.crt"
	check "issue syncs the WAL" grep -q "sync([0-9]*<$R-wal>" "$WORK/syncs"
	check "... and the folder of the empty WAL it found" \
	    grep -q "sync([0-9]*<$WORK/rest>" "$WORK/syncs"
	check "the next issue, traced" \
	    syncs $C --store "$R" issue server synced2.test --cert "$WORK/s2.crt"
	check "... syncs the WAL" grep -q "sync([0-9]*<$R-wal>" "$WORK/syncs"
	check_not "... not the store (the WAL is not folded yet)" \
	    grep -q "sync([0-9]*<$R>" "$WORK/syncs"
	check_not "... and not its folder (the WAL was there, written)" \
	    grep -q "sync([0-9]*<$WORK/rest>" "$WORK/syncs"
	# Another program holds the store open (a connection, no
	# transaction) while certmint issues.
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("select count(*) from certs").fetchall()
open(sys.argv[2], "w").close()
time.sleep(20)' "$R" "$WORK/holding" &
		holder=$!
		n=0
		while [ ! -e "$WORK/holding" ] && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		check "another program has the store open" test -e "$WORK/holding"
		check "issue while it does, traced" \
		    syncs_writes $C --store "$R" issue server held.test \
		    --cert "$WORK/h.crt"
		grep "<$R-wal>" "$WORK/syncs" >"$WORK/walops"
		check "... writes the WAL" grep -q "^[0-9]* *pwrite" "$WORK/walops"
		check "... and syncs it after its last write all the same" \
		    sh -c "tail -n 1 '$WORK/walops' | grep -q 'sync('"
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	else
		ok "# SKIP python3 is not installed"
	fi
	# The sqlite3 shell folds the WAL in and deletes it and the -shm.
	sqlite3 "$R" 'select count(*) from certs' >/dev/null
	check_not "the sqlite3 shell deleted the WAL" test -e "$R-wal"
	check "ca list, traced, the WAL and -shm deleted" syncs $C --store "$R" ca list
	check "ca list that makes the WAL syncs its folder" \
	    grep -q "sync([0-9]*<$WORK/rest>" "$WORK/syncs"
	check "... and leaves it there" test -f "$R-wal"
	check "the next ca list, traced" syncs $C --store "$R" ca list
	check "... syncs the folder of the empty WAL again" \
	    grep -q "sync([0-9]*<$WORK/rest>" "$WORK/syncs"
	check "an issue writes the WAL" \
	    $C --store "$R" issue server last.test --cert "$WORK/l.crt"
	check "a ca list after it, traced" syncs $C --store "$R" ca list
	check_not "... syncs nothing" grep -q sync "$WORK/syncs"
else
	ok "# SKIP strace cannot trace here"
fi
# A failed command that made a store takes it, its WAL and -shm back.
mkdir "$WORK/gone"
expect_fail 2 "CA 'nope' not found" "first issue with an unknown --ca" \
    $C --store "$WORK/gone/s.db" issue server g.test --ca nope
is "... leaves no store, WAL or -shm" "$(ls -A "$WORK/gone")" ""

# Reopening an up-to-date store migrates nothing and logs nothing.
sum0=$(sqlite3 "$S" 'select count(*) from events')
check "reopen (ca list) an up-to-date store" $C ca list
is "reopening writes no event" "$(sqlite3 "$S" 'select count(*) from events')" \
    "$sum0"

# Two writers at once: each runs 10 issues in a loop; the busy timeout
# (default, no CERTMINT_BUSY_TIMEOUT) makes them take turns.
mkdir a b
( cd a && for i in 1 2 3 4 5 6 7 8 9 10; do
	$C issue server "a$i.test" >/dev/null 2>>"$WORK/a.err" ||
	    echo "a$i failed" >>"$WORK/a.err"
done ) &
pa=$!
( cd b && for i in 1 2 3 4 5 6 7 8 9 10; do
	$C issue client "b$i@x.test" >/dev/null 2>>"$WORK/b.err" ||
	    echo "b$i failed" >>"$WORK/b.err"
done ) &
pb=$!
wait $pa
wait $pb
touch "$WORK/a.err" "$WORK/b.err"
is "writer A: no error" "$(cat "$WORK/a.err")" ""
is "writer B: no error" "$(cat "$WORK/b.err")" ""
check_not "no 'locked' anywhere" grep -qi locked "$WORK/a.err" "$WORK/b.err"
is "all 20 certificates in the store" \
    "$(sqlite3 "$S" 'select count(*) from certs')" 20
is "all 20 issue events" "$(sqlite3 "$S" "select count(*) from events where
    action = 'issue'")" 20
is "20 distinct serials" \
    "$(sqlite3 "$S" 'select count(distinct serial) from certs')" 20
is "all 40 files written" "$(ls a b | grep -c '\.\(crt\|key\)$')" 40
check "still consistent" sh -c \
    "test \"\$(sqlite3 '$S' 'PRAGMA integrity_check')\" = ok"

# A batch and single issues at once: the batch's one transaction and the
# singles interleave without errors either.
i=0; : >"$WORK/batch.txt"
while [ $i -lt 50 ]; do echo "server c$i.test" >>"$WORK/batch.txt"; i=$((i+1)); done
mkdir c d
$C issue --batch "$WORK/batch.txt" --out-dir c >/dev/null 2>"$WORK/c.err" &
pc=$!
( cd d && for i in 1 2 3 4 5; do
	$C issue server "d$i.test" >/dev/null 2>>"$WORK/d.err" ||
	    echo "d$i failed" >>"$WORK/d.err"
done ) &
pd=$!
wait $pc; rc=$?
wait $pd
is "the batch succeeded beside single writers" "$rc" 0
is "the singles succeeded beside the batch" "$(cat "$WORK/d.err")" ""
is "75 certificates" "$(sqlite3 "$S" 'select count(*) from certs')" 75

# --store into a new directory path: the directory is made 0700.
check "--store in a new directory" $C --store "$WORK/deep/er/s.db" init
is "... the directory is 0700" "$(stat -c %a "$WORK/deep/er")" 700
is "... the file is 0600" "$(stat -c %a "$WORK/deep/er/s.db")" 600
# Not a database: a store error (3), and the file is left alone.
echo "not sqlite" >"$WORK/junk.db"
expect_fail 3 "junk\.db" "a file that is not a store" \
    $C --store "$WORK/junk.db" list
is "... left alone" "$(cat "$WORK/junk.db")" "not sqlite"
# A URI of another scheme is not a store (issue 16): refused, nothing made;
# a postgresql:// one is a PostgreSQL store (never a folder named
# "postgresql:"), and a password in it is refused: it would show in argv.
mkdir -p "$WORK/uri" && cd "$WORK/uri" || exit 1
"$CERTMINT" --store mysql://ca@localhost/certmint list >/dev/null 2>err.txt
is "--store mysql://...: exit 2" "$?" 2
is "... one line naming the scheme" "$(cat err.txt)" \
    "certmint: store 'mysql://...': a store is a file path (SQLite) or a postgresql:// URI, not a mysql URI"
"$CERTMINT" --store "postgresql://ca:s3cret@localhost/certmint" list \
    >/dev/null 2>err.txt
is "--store with a password in the URI: exit 2" "$?" 2
is "... one line, the password not echoed" "$(grep -c s3cret err.txt)" 0
grep -q "PGPASSWORD" err.txt && ok "... says where a password goes" ||
    not_ok "... says where a password goes"
CERTMINT_STORE="postgres:///certmint?host=$WORK/uri/nosuchsocket" \
    "$CERTMINT" issue server a.test >/dev/null 2>err.txt
is "CERTMINT_STORE=postgres://... with no server: exit 3" "$?" 3
is "... one line" "$(wc -l <err.txt)" 1
grep -q "cannot connect" err.txt && ok "... saying it cannot connect" ||
    not_ok "... saying it cannot connect"
rm -f err.txt
is "... and no folder named postgres: or postgresql: was made, no file written" \
    "$(ls -A)" ""
cd "$WORK" || exit 1

done_testing
