# lib.sh - TAP helpers for the shell tests (sourced).
#
# Every test script: . "$top_srcdir/tests/cli/lib.sh", then assertions, then
# done_testing.  Each assertion prints one TAP line; automake's tap-driver
# counts them.  A script that cannot run (missing tool, missing data)
# calls skip_all, which reports it as skipped, never as passed.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CERTMINT:=$top_builddir/cmd/certmint}"

T_N=0
T_FAIL=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certmint-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"
export HOME="$WORK/home"
export CERTMINT_STORE="$WORK/store.db"
# The same test on a PostgreSQL store (tests/pg/run.sh): CERTMINT_TEST_PG
# is the URI of a database of a throwaway cluster.  on_pg: true then.
if [ -n "${CERTMINT_TEST_PG:-}" ]; then
	CERTMINT_STORE=$CERTMINT_TEST_PG
fi
on_pg() { [ -n "${CERTMINT_TEST_PG:-}" ]; }
# On PostgreSQL, "sqlite3 [-separator X] STORE SQL" on the test's store
# (a test reading or setting up rows) goes to psql, with the few SQLite
# spellings the tests use translated; any other file is SQLite's.
if on_pg; then
	sqlite3() {
		_sep='|'
		while [ $# -gt 0 ]; do
			case $1 in
			-separator) _sep=$2; shift 2 ;;
			-*) shift ;;
			*) break ;;
			esac
		done
		if [ "$1" != "$CERTMINT_TEST_PG" ]; then
			command sqlite3 -separator "$_sep" "$@"
			return
		fi
		shift
		_q=$(printf '%s' "$*" | sed \
		    -e "s/strftime('%s' *, *'now')/extract(epoch from now())::bigint/g" \
		    -e "s/strftime('%s')/extract(epoch from now())::bigint/g" \
		    -e 's/hex(\([^)]*\))/upper(encode(\1, '"'hex'"'))/g' \
		    -e 's/zeroblob(\([0-9]*\))/decode(repeat('"'00'"', \1), '"'hex'"')/g')
		# writefile('F', blob), the sqlite3 shell's: the blob as hex,
		# written by python3.
		_wf=$(printf '%s' "$_q" | sed -n "s/.*writefile('\([^']*\)'.*/\1/p")
		if [ -n "$_wf" ]; then
			_q=$(printf '%s' "$_q" | sed \
			    "s/writefile('[^']*', *\([^)]*\))/encode(\1, 'hex')/")
			psql -X -q -At -v ON_ERROR_STOP=1 -d "$CERTMINT_TEST_PG" \
			    -c "$_q" | python3 -c 'import sys
open(sys.argv[1], "wb").write(bytes.fromhex(sys.stdin.read().strip()))' \
			    "$_wf"
			return
		fi
		psql -X -q -At -v ON_ERROR_STOP=1 -F "$_sep" \
		    -d "$CERTMINT_TEST_PG" -c "$_q"
	}
fi
unset CERTMINT_PASSPHRASE XDG_DATA_HOME CERTMINT_BUSY_TIMEOUT
# The distribution's python3 (the one install-deps.sh equips with
# python3-cryptography) ahead of a version manager's shim on PATH: a
# pyenv shim costs about a second per call, and the tests call python3
# hundreds of times.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ] &&
    /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
	mkdir -p "$WORK/bin" && ln -s /usr/bin/python3 "$WORK/bin/python3" &&
	    PATH="$WORK/bin:$PATH"
fi

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"
}
diag() { sed 's/^/# /' "$@" 2>/dev/null; }

# check DESC CMD...: passes when CMD exits 0 (output in $WORK/out, err).
check() {
	_d=$1; shift
	if "$@" >"$WORK/out" 2>"$WORK/err"; then ok "$_d"; else
		not_ok "$_d (exit $?)"; diag "$WORK/out" "$WORK/err"; fi
}

# check_not DESC CMD...: passes when CMD exits non-zero.
check_not() {
	_d=$1; shift
	if "$@" >"$WORK/out" 2>"$WORK/err"; then
		not_ok "$_d (unexpected success)"; diag "$WORK/out"
	else ok "$_d"; fi
}

# expect_fail CODE REGEX DESC CMD...: CMD exits with CODE and prints exactly
# one line on stderr, matching the extended REGEX.
expect_fail() {
	_code=$1; _re=$2; _d=$3; shift 3
	"$@" >"$WORK/out" 2>"$WORK/err"
	_rc=$?
	_lines=$(wc -l <"$WORK/err")
	if [ "$_rc" -eq "$_code" ] && [ "$_lines" -eq 1 ] &&
	    grep -Eq -- "$_re" "$WORK/err"; then
		ok "$_d"
	else
		not_ok "$_d (exit $_rc, want $_code; $_lines stderr lines)"
		diag "$WORK/err"
	fi
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"; echo "#   got: '$2'"; echo "#  want: '$3'"; fi
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
need() { command -v "$1" >/dev/null 2>&1 || skip_all "$1 not installed"; }
done_testing() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }

# out_has DESC ERE / err_has DESC ERE: the stdout / stderr of the previous
# check, check_not or expect_fail matches ERE (a copy is searched, since a
# check writes over $WORK/out and $WORK/err).
out_has() {
	cp "$WORK/out" "$WORK/out.prev"
	check "$1" grep -Eq -- "$2" "$WORK/out.prev"
}
err_has() {
	cp "$WORK/err" "$WORK/err.prev"
	check "$1" grep -Eq -- "$2" "$WORK/err.prev"
}
