#!/bin/sh
# run.sh TEST - runs the shell test TEST (a path under the source tree), or
# the unit test program TEST (under the build tree), on
# a PostgreSQL store: a throwaway cluster of its own (pg-lib.sh), its URI
# in CERTMINT_TEST_PG, which tests/cli/lib.sh makes the store.  Without
# the server binaries the test is reported skipped, never passed.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/pg/pg-lib.sh"
PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certmint-pg.XXXXXX")
chmod 755 "$PG_TMP"
trap 'pg_stop; rm -rf "$PG_TMP"' EXIT
trap 'exit 1' INT TERM
pg_start "$PG_TMP/pg"
case $? in
0) ;;
77)
	echo "1..0 # SKIP PostgreSQL server binaries (initdb, pg_ctl) not found"
	exit 0 ;;
*)
	echo "Bail out! the throwaway PostgreSQL cluster did not start"
	cat "$PG_TMP/pg/initdb.log" "$PG_TMP/pg/server.log" 2>/dev/null |
	    sed 's/^/# /'
	exit 1 ;;
esac
CERTMINT_TEST_PG=$PG_URI
export CERTMINT_TEST_PG
# A shell test from the source tree, or a unit test program (built).
case $1 in
*.sh) ${SHELL:-/bin/sh} "$top_srcdir/$1" ;;
*) "${top_builddir:-$top_srcdir}/$1" ;;
esac
