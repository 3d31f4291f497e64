#!/bin/sh
# errors.sh - bad input: one line naming the object at fault, a distinct
# exit code (2 usage/bad input, 3 store, 4 crypto), and nothing left behind:
# no new file in the output directory, no new row in certs, keys or events.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need sqlite3
need sha256sum
C=$CERTMINT
S=$CERTMINT_STORE
OUT="$WORK/out.d"
mkdir -p "$OUT"
RO="$WORK/ro"
trap 'chattr -i "$RO" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$OUT" || exit 1

# state: the output directory's listing with sizes and hashes, and the row
# counts of every table a failed command must not touch.
state() {
	(cd "$OUT" && find . -type f -exec sha256sum {} + | sort)
	sqlite3 "$S" "select 'certs', count(*) from certs;
	    select 'keys', count(*) from keys;
	    select 'events', count(*) from events;
	    select 'cas', count(*) from cas;"
}
# fails CODE ERE DESC CMD...: expect_fail, then nothing changed.
fails() {
	state >"$WORK/before"
	expect_fail "$@"
	state >"$WORK/after"
	if cmp -s "$WORK/before" "$WORK/after"; then
		ok "... nothing left behind"
	else
		not_ok "... nothing left behind"
		diff "$WORK/before" "$WORK/after" | sed 's/^/# /'
	fi
}

# On an empty store, bad input is refused before the store and the dev CA
# that the first issue would make exist.
expect_fail 2 "'a\.\.b'" "first issue with a bad name" $C issue server a..b
check_not "... no store made" test -e "$S"
printf 'nope = 1\n' >"$WORK/first.tmpl"
expect_fail 2 "first\.tmpl:1: unknown key 'nope'" \
    "first issue with a bad profile file" \
    $C issue --profile "$WORK/first.tmpl" a.test
check_not "... no store made" test -e "$S"
is "... no file in the output directory" "$(ls -A "$OUT")" ""

# Nor does an output file that cannot be written, an unknown profile, or a
# bad argument to init: no store, no CA, no folder made for them.
F="$WORK/fresh/sub/f.db"
expect_fail 2 "nonexistent/a\.crt: output directory .*nonexistent: No such file" \
    "first issue into a missing directory" \
    $C --store "$F" issue server ok.test --cert "$WORK/nonexistent/a.crt"
check_not "... no store (nor its folders) made" test -e "$WORK/fresh"
echo precious >"$OUT/taken1.test.crt"
expect_fail 2 "taken1\.test\.crt: file exists" "first issue over an existing file" \
    $C --store "$F" issue server taken1.test
check_not "... no store made" test -e "$WORK/fresh"
rm "$OUT/taken1.test.crt"
# Outputs are replaced by a rename: never a device, a pipe, a link to one,
# anything in /dev, /proc or /sys (--cert /dev/stdout, as root, replaced
# the link with a file) or a file named '-'.  The cases are built so that
# a regression could harm nothing outside $WORK.
ln -s /dev/null "$WORK/devlink"
expect_fail 2 "devlink: not a regular file" \
    "--cert LINK-TO-/dev/null --force" \
    $C --store "$F" issue server dev.test --cert "$WORK/devlink" --force
check "... the link is still there" test -L "$WORK/devlink"
expect_fail 2 "/proc/self/fd/1: in /dev, /proc or /sys" \
    "--cert /proc/self/fd/1 --force (stdout a regular file)" \
    sh -c "exec >'$WORK/stdout.txt'; '$C' --store '$F' issue server \
    dev.test --cert /proc/self/fd/1 --force"
mkfifo "$WORK/fifo"
expect_fail 2 "fifo: not a regular file" "--key into a FIFO, --force" \
    $C --store "$F" issue server dev.test --key "$WORK/fifo" --force
expect_fail 2 "output file '-': standard output is not taken here" \
    "--cert -" $C --store "$F" issue server dev.test --cert -
check_not "... no file named '-'" test -e ./-
check_not "... no store made" test -e "$WORK/fresh"
expect_fail 2 "profile 'nope' not found" "first issue with an unknown profile" \
    $C --store "$F" issue --profile nope a.test
check_not "... no store made" test -e "$WORK/fresh"
expect_fail 2 "CA name '' must have" "init --name ''" \
    $C --store "$F" init --name ""
check_not "... no store made" test -e "$WORK/fresh"
expect_fail 2 "--permit 'bogus/3'" "init --permit bogus/3" \
    $C --store "$F" init --permit bogus/3
check_not "... no store made" test -e "$WORK/fresh"
mkdir "$WORK/keep"
expect_fail 2 "CA name '' must have" "init --name '' in an existing folder" \
    $C --store "$WORK/keep/k.db" init --name ""
is "... the folder stays, empty" "$(ls -A "$WORK/keep")" ""
is "... no file in the output directory" "$(ls -A "$OUT")" ""

printf 'right one\n' >"$WORK/pass"
printf 'wrong one\n' >"$WORK/wrong"
export CERTMINT_PASSPHRASE="right one"
check "init a name-constrained, encrypted CA" $C init --permit .test \
    --permit 127.0.0.0/8 --permit @example.test
unset CERTMINT_PASSPHRASE
P="--passphrase-file $WORK/pass"
check "a good issue works (the baseline)" $C issue server ok.test $P

# Unknown template key: FILE:LINE.
printf '# custom\norganization = "x"\n\nbogus_key = 1\ntls_www_server\n' \
    >"$WORK/bad.tmpl"
fails 2 "bad\.tmpl:4: unknown key 'bogus_key'" \
    "unknown template key names file and line" \
    $C issue --profile "$WORK/bad.tmpl" a.test $P
printf 'expiration_days = soon\n' >"$WORK/badval.tmpl"
fails 2 "badval\.tmpl:1:.*expiration_days" "bad template value names the line" \
    $C issue --profile "$WORK/badval.tmpl" a.test $P
fails 2 "profile.*nope" "unknown profile name" \
    $C issue --profile nope a.test $P

# Malformed names.
fails 2 "'a\.\.b\.test'.*empty label" "malformed name a..b" \
    $C issue server a..b.test $P
fails 2 "'-x\.test'" "label starting with a hyphen" \
    $C issue server $P -- -x.test
fails 2 "'a b\.test'" "name with a space" $C issue server 'a b.test' $P
fails 2 "'\*\.\*\.test'|wildcard" "double wildcard" \
    $C issue server '*.*.test' $P
fails 2 "'bad@'" "malformed email" $C issue server 'bad@' $P
fails 2 "'1\.2\.3\.999'|'1.2.3.999'" "malformed IPv4 looks like a bad name" \
    $C issue server 1.2.3.999 $P
fails 2 "good\.test, a\.\.b|a\.\.b" \
    "a bad second name refuses the whole request" \
    $C issue server good.test a..b.test $P

# Names outside the CA's name constraints, before anything is written.
fails 2 "'example\.com' is outside the name constraints of CA" \
    "DNS name outside constraints" $C issue server example.com $P
fails 2 "'10\.0\.0\.1' is outside" "IP outside constraints" \
    $C issue server ok2.test 10.0.0.1 $P
fails 2 "'x@example\.com' is outside" "email outside constraints" \
    $C issue client x@example.com $P
fails 2 "'\*\.com' is outside|\*\.com" "wildcard outside constraints" \
    $C issue server '*.com' $P

# Unwritable output directory.  The tests run as root, for whom mode 0500
# is no barrier: use a missing directory, a path through a regular file,
# and, where the file system has it, an immutable (chattr +i) directory.
fails 2 "nonexistent.*No such file" "output directory does not exist" \
    $C issue server nd.test --cert "$WORK/nonexistent/nd.crt" \
    --key "$WORK/nonexistent/nd.key" $P
: >"$WORK/plainfile"
fails 2 "plainfile.*not a directory" "output 'directory' is a file" \
    $C issue server nd.test --cert "$WORK/plainfile/nd.crt" \
    --key "$WORK/plainfile/nd.key" $P
fails 2 "nonexistent" "cert writable, key not: no certificate left either" \
    $C issue server half.test --cert "$OUT/half.crt" \
    --key "$WORK/nonexistent/half.key" $P
fails 2 "nonexistent" "key writable, cert not: no key left either" \
    $C issue server half.test --cert "$WORK/nonexistent/half.crt" \
    --key "$OUT/half.key" $P
mkdir "$RO"
if chattr +i "$RO" 2>/dev/null && ! touch "$RO/probe" 2>/dev/null; then
	fails 2 "ro.*(Operation not permitted|Permission denied)" \
	    "immutable output directory" \
	    $C issue server ro.test --cert "$RO/ro.crt" --key "$RO/ro.key" $P
	is "... nothing inside it" "$(ls -A "$RO")" ""
	chattr -i "$RO"
else
	ok "# SKIP chattr +i not available here"
	ok "# SKIP chattr +i not available here"
	ok "# SKIP chattr +i not available here"
fi

# Existing output files: refused, left unchanged (exit 2).
echo "precious" >"$OUT/taken.test.crt"
fails 2 "taken\.test\.crt.*exists" "existing certificate file" \
    $C issue server taken.test $P
is "... content unchanged" "$(cat "$OUT/taken.test.crt")" precious
echo "precious key" >"$OUT/k.test.key"
fails 2 "k\.test\.key.*exists" "existing key file (no cert written)" \
    $C issue server k.test $P
is "... content unchanged" "$(cat "$OUT/k.test.key")" "precious key"

# Passphrases: wrong (4); a passphrase file that cannot be read, or holds
# none, is bad input (2), as a --password-file is, in every command.
fails 4 "wrong passphrase" "wrong --passphrase-file" \
    $C issue server w.test --passphrase-file "$WORK/wrong"
fails 4 "wrong passphrase" "wrong CERTMINT_PASSPHRASE" \
    env CERTMINT_PASSPHRASE=nope $C issue server w.test
fails 2 "missing-pass: No such file" "missing passphrase file" \
    $C issue server w.test --passphrase-file "$WORK/missing-pass"
fails 2 "missing-pass: No such file" "crl: missing passphrase file" \
    $C crl --passphrase-file "$WORK/missing-pass"
printf 'new one\n' >"$WORK/newpass"
fails 2 "missing-pass: No such file" "passwd: missing passphrase file" \
    $C passwd --passphrase-file "$WORK/missing-pass" \
    --new-passphrase-file "$WORK/newpass"
printf 'p12 pw\n' >"$WORK/p12pw"
fails 2 "missing-pass: No such file" "export: missing passphrase file" \
    $C export ok.test --format p12 --out "$OUT/ok.p12" \
    --password-file "$WORK/p12pw" --passphrase-file "$WORK/missing-pass"
fails 2 "missing-pass: No such file" "ca create: missing passphrase file" \
    $C ca create Sub --parent "certmint dev CA" \
    --passphrase-file "$WORK/missing-pass"
fails 2 "ro: Is a directory" "a directory as passphrase file" \
    $C issue server w.test --passphrase-file "$RO"
fails 4 "passphrase" "no passphrase and no terminal" \
    setsid $C issue server w.test </dev/null
: >"$WORK/empty-pass"
expect_fail 2 "empty-pass.*empty" "init with an empty passphrase file" \
    $C --store "$WORK/e.db" init --passphrase-file "$WORK/empty-pass"
check_not "... no store created" test -e "$WORK/e.db"
expect_fail 2 "missing-pass.*No such file" "init with a missing passphrase file" \
    $C --store "$WORK/e.db" init --passphrase-file "$WORK/missing-pass"
expect_fail 4 "CERTMINT_PASSPHRASE is empty" "init with CERTMINT_PASSPHRASE=''" \
    env CERTMINT_PASSPHRASE= $C --store "$WORK/e.db" init
expect_fail 4 "no terminal" "init --ask-passphrase without a terminal" \
    setsid $C --store "$WORK/e.db" init --ask-passphrase </dev/null
check_not "... still no store" test -e "$WORK/e.db"

# Unknown CA, unknown command and options: usage errors (2).
fails 2 "CA 'nope' not found" "--ca nope" $C issue server n.test --ca nope $P
fails 2 "unknown command 'frobnicate'" "unknown command" $C frobnicate
fails 2 "'--frobnicate'" "unknown global option" $C --frobnicate list
fails 2 "'--frobnicate'" "unknown command option" \
    $C issue server n.test --frobnicate $P
fails 2 "'--days'" "option missing its value" $C issue server n.test --days
fails 2 "--days '0'" "--days 0" $C issue server n.test --days 0 $P
fails 2 "--days 'x'" "--days x" $C issue server n.test --days x $P
fails 2 "rsa-1024" "unknown --key-type" \
    $C issue server n.test --key-type rsa-1024 $P
fails 2 "server, client or peer" "unknown kind" $C issue serer n.test $P
fails 2 "no name" "no name" $C issue server $P
fails 2 "'--passphrase'.*never|--passphrase: " "--passphrase on argv" \
    $C issue server n.test --passphrase "right one"
fails 2 "status 'bogus'" "list --status bogus" $C list --status bogus
# No command takes a secret on argv, nor reads one as an abbreviated
# --passphrase-file/--password-file (which would name it as a missing file).
for a in "export n.test --format p12 --password hunter2" \
    "crl --passphrase hunter2" "ocsp serve --passphrase=hunter2" \
    "passwd --passphrase hunter2" "import --cert c.pem --password hunter2" \
    "sign r.csr --profile server --pin hunter2" \
    "test --cert n.test --passphrase hunter2"; do
	# shellcheck disable=SC2086
	fails 2 "^certmint [a-z]+: --(passphrase|password|pin): a secret is never taken from the command line" \
	    "${a%% *} ${a#* }: refused" $C $a
	cp "$WORK/err" "$WORK/err.secret"
	check_not "... the secret is not echoed" grep -q hunter2 \
	    "$WORK/err.secret"
done

# Every command names an unknown option, or one whose value is missing.
for a in "init" "ca create X" "ca set" "issue server u.test" "list" "show x" \
    "sign r.csr" "renew x" "revoke x" "status" "export x" "import" "trust" \
    "passwd" "test" "test serve" "test connect h:1" "verify x.crt" "crl" \
    "ocsp serve"; do
	# shellcheck disable=SC2086
	fails 2 "^certmint [a-z ]+: option '--bogus': unknown" \
	    "$a --bogus: named" $C $a --bogus
done
fails 2 "option '--reason': unknown, or its value is missing" \
    "revoke --reason without its value: named" $C revoke x --reason
fails 2 "^certmint: option '--store' needs a path" "--store without a path" \
    $C --store
fails 2 "^certmint: unknown option '--bogus'" "an unknown global option" \
    $C --bogus list

# Every command has --help (exit 0, usage on stdout, no store touched).
for cmd in init ca issue list show help version; do
	check "$cmd --help" $C $cmd --help
	out_has "... prints a usage or the version" '^(usage: certmint|certmint [0-9])'
done
check "certmint --help" $C --help
out_has "... lists the commands" '^  issue '
check "certmint help issue" $C help issue
out_has "... is issue --help" '^usage: certmint issue'
expect_fail 2 "unknown command 'nope'" "certmint help nope" $C help nope

# A subcommand's help is its own, however it is asked for.
check "certmint help ca create" $C help ca create
out_has "... is ca create --help" '^usage: certmint ca create NAME --parent CA \[--pathlen'
check "certmint help test serve" $C help test serve
out_has "... is test serve --help" '^usage: certmint test serve'
check "certmint ca list --help" $C ca list --help
out_has "... is ca list's" '^usage: certmint ca list \[--json \| --names\]$'
check "certmint ca show --help" $C ca show --help
out_has "... is ca show's" '^usage: certmint ca show '
check "certmint help ca show" $C help ca show
out_has "... is ca show's" '^usage: certmint ca show '
fails 2 "certmint ca: say create, list, show or set" \
    "'ca' alone names every subcommand" $C ca

# The usage lines name every option the help describes.
usage_complete() {
	"$@" --help >"$WORK/help" 2>&1
	grep -E '^ +--' "$WORK/help" | grep -oE -- '--[a-z][a-z0-9-]*' |
	    sort -u >"$WORK/help.body"
	sed -n '1,/^$/p' "$WORK/help" | grep -oE -- '--[a-z][a-z0-9-]*' |
	    sort -u >"$WORK/help.usage"
	is "usage of '$*' names every option it describes" \
	    "$(comm -23 "$WORK/help.body" "$WORK/help.usage" | tr '\n' ' ')" ""
}
for cmd in init issue "ca list" "ca show" "ca create" "ca set" renew sign \
    list show revoke export import trust passwd verify status crl ocsp test \
    "test serve" "test connect"; do
	# shellcheck disable=SC2086
	usage_complete $C $cmd
done

# A store newer than the binary: refused (3), never written.
cp "$S" "$WORK/new.db"
sqlite3 "$WORK/new.db" "PRAGMA user_version = 99; PRAGMA journal_mode =
    DELETE;" >/dev/null
sum0=$(sha256sum <"$WORK/new.db")
latest=$($C version | sed -n 's/.*schema \([0-9]*\).*/\1/p')
expect_fail 3 "schema 99.*$latest|schema 99" "store newer than the binary" \
    $C --store "$WORK/new.db" issue server new.test $P
is "... the store file is byte for byte unchanged" \
    "$(sha256sum <"$WORK/new.db")" "$sum0"
check_not "... no certificate written" test -e new.test.crt
expect_fail 3 "schema 99" "list on a newer store" $C --store "$WORK/new.db" list
expect_fail 3 "schema 99" "init on a newer store" \
    $C --store "$WORK/new.db" init --name Another
is "... still unchanged" "$(sha256sum <"$WORK/new.db")" "$sum0"

# A locked store: another writer holds it past the busy timeout (3).
# The sqlite3 shell runs each line as it reads it: BEGIN EXCLUSIVE, then
# a marker file, then sleep, then COMMIT.
rm -f "$WORK/locked"
{ echo "BEGIN EXCLUSIVE;"; echo "INSERT INTO cas SELECT * FROM cas WHERE 0;"
  echo ".shell touch '$WORK/locked'"; sleep 2; echo "COMMIT;"; } |
    sqlite3 "$S" >/dev/null 2>&1 &
holder=$!
i=0
while [ ! -e "$WORK/locked" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the lock holder is in place" test -e "$WORK/locked"
start=$(date +%s%N)
fails 3 "locked" "locked store" \
    env CERTMINT_BUSY_TIMEOUT=200 $C issue server lk.test $P
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "... gave up after the busy timeout, not at once nor never ($ms ms)" \
    test "$ms" -ge 150 -a "$ms" -lt 2500
wait "$holder"
check "after the lock is released the same issue works" \
    $C issue server lk.test $P

# Output that cannot be written is a failure with a message, not a silent
# success (the table of list is written through stdio, flushed at exit).
if [ -w /dev/full ]; then
	$C list >/dev/full 2>"$WORK/full.err"
	is "list > /dev/full exits 2" "$?" 2
	check "... saying why" grep -q \
	    "^certmint: writing to standard output: No space left" "$WORK/full.err"
	# One line each, whoever notices: the command or the exit.
	for args in "--version" "--help" "list --json" "ca show --pem" \
	    "export ok.test --format pem $P" "crl $P"; do
		expect_fail 2 "[Nn]o space left" "${args%% --pass*} > /dev/full" \
		    sh -c '"$0" "$@" >/dev/full' $C $args
	done
else
	ok "# SKIP no /dev/full"
fi

# An error is one line written at once: stderr is unbuffered, and a line
# written a character at a time is cut into by the lines of other programs
# writing to the same terminal or log (make -j).  A control character in
# a name shows as '?', inside that one line.
if command -v strace >/dev/null 2>&1 &&
    strace -o /dev/null true >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace (its own lines would be
	# counted); leaks are checked by every other test.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	export ASAN_OPTIONS
	strace -o "$WORK/w.trace" -e trace=write $C issue server "$(printf 'x\ty')" \
	    >/dev/null 2>"$WORK/w.err"
	is "a failure's line, in one write" \
	    "$(grep -c '^write(2, ' "$WORK/w.trace")" 1
	check "... control character shown as ?" \
	    grep -q "name 'x?y'" "$WORK/w.err"
	strace -o "$WORK/u.trace" -e trace=write $C issue --days x a.test \
	    >/dev/null 2>"$WORK/u.err"
	is "a usage error's line, in one write" \
	    "$(grep -c '^write(2, ' "$WORK/u.trace")" 1
	check "... naming the option and the help" \
	    grep -q "^certmint issue: .*(see certmint issue --help)$" "$WORK/u.err"
else
	ok "# SKIP strace cannot trace here"
fi
done_testing
