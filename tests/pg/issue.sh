#!/bin/sh
# tests/cli/issue.sh on a PostgreSQL store (issue 16): see run.sh.
exec ${SHELL:-/bin/sh} "$top_srcdir/tests/pg/run.sh" tests/cli/issue.sh
