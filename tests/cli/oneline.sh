#!/bin/sh
# oneline.sh - the CLI fixes of the security review: every error is one
# line naming the cause, whatever argv holds; the exit codes; a first
# issue raced by another one (make -j) still succeeds.

. "$top_srcdir/tests/cli/lib.sh"

nl='
'
expect_fail 2 "^certmint init: option '--bogus': unknown" \
	"unknown long option: one line" "$CERTMINT" init --bogus
expect_fail 2 "^certmint issue: option '--days': unknown, or its value is missing" \
	"option without its value: one line" "$CERTMINT" issue server a.test --days
expect_fail 2 "^certmint issue: option '--key-type' needs a value \(got the option '--ca'\)" \
	"an option as another's value: one line, naming both" \
	sh -c "cd '$WORK' && '$CERTMINT' issue server a.test --key-type --ca N"
check_not "... nothing issued" test -e "$WORK/a.test.crt"
expect_fail 2 "^certmint list: --store goes before the command: certmint --store PATH list" \
	"--store after the command: says where it goes" \
	"$CERTMINT" list --store "$WORK/x.db"
expect_fail 2 "^certmint list: option '-x': unknown" \
	"unknown short option: one line" "$CERTMINT" list -x
expect_fail 2 "^certmint: $WORK/none: No such file" \
	"init: missing passphrase file: one line" \
	"$CERTMINT" init --passphrase-file "$WORK/none"
: >"$WORK/empty"
expect_fail 2 "^certmint: $WORK/empty: empty passphrase file" \
	"init: empty passphrase file: one line" \
	"$CERTMINT" init --passphrase-file "$WORK/empty"
CERTMINT_PASSPHRASE= expect_fail 4 "^certmint: CERTMINT_PASSPHRASE is empty$" \
	"first issue with an empty CERTMINT_PASSPHRASE: one line" \
	"$CERTMINT" issue server a.test
expect_fail 2 "^certmint: CA name 'a\?b' has a control character$" \
	"CA name with a newline: one line, quoted" \
	"$CERTMINT" init --name "a${nl}b"
expect_fail 2 "^certmint: name 'a\?b' has a space, control" \
	"name with a newline: one line, quoted" \
	"$CERTMINT" issue server "a${nl}b"
check "a store to look in" "$CERTMINT" init --name oneline
expect_fail 2 "^certmint: certificate 'x\\\\x0ay' not found" \
	"show with a newline: one line, quoted" "$CERTMINT" show "x${nl}y"
expect_fail 2 "^certmint: --permit 'a\?b': not a DNS suffix" \
	"--permit with a newline: one line, quoted" \
	"$CERTMINT" init --name other --permit "a${nl}b"

# Four first issues at once on an empty store: one makes the CA, the
# others use it.
export CERTMINT_STORE="$WORK/race.db"
mkdir "$WORK/race"
for i in 1 2 3 4; do
	(cd "$WORK/race" && "$CERTMINT" issue server "h$i.test" \
	    >/dev/null 2>"$WORK/race/err$i"; echo $? >"$WORK/race/rc$i") &
done
wait
is "four racing first issues all succeed" \
	"$(cat "$WORK/race/rc1" "$WORK/race/rc2" "$WORK/race/rc3" \
	    "$WORK/race/rc4" | tr -d '\n')" "0000"
is "one CA in the store" "$("$CERTMINT" ca list --json | grep -c '"name"')" 1
done_testing
