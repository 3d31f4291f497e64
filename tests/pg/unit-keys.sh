#!/bin/sh
# tests/unit/test-keys on a PostgreSQL store (issue 16): see run.sh.
exec ${SHELL:-/bin/sh} "$top_srcdir/tests/pg/run.sh" tests/unit/test-keys
