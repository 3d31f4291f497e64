#!/bin/sh
# limbo.sh - certmint verify over the x509-limbo cases, compared with
# GnuTLS 3.7.9 certtool's verdicts (see limbo.py and
# limbo-disagreements.txt).  Skips when the data or python3 is absent.
. "$top_srcdir/tests/cli/lib.sh"

data="$top_srcdir/../shared/data/x509-limbo"
[ -f "$data/limbo.json" ] && [ -f "$data/certtool-3.7.9-results.json" ] ||
	skip_all "x509-limbo data not found in $data"
need python3

# limbo.py prints the whole TAP stream (plan included).
python3 "$top_srcdir/tests/conformance/limbo.py" "$CERTMINT" "$data" \
	"$top_srcdir/tests/conformance/limbo-disagreements.txt"
exit $?
