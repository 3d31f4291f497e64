#!/bin/sh
# limbo.sh - certmint verify over the x509-limbo cases, compared with
# GnuTLS 3.7.9 certtool's verdicts (see limbo.py and
# limbo-disagreements.txt).  The corpus is in the repository
# (tests/conformance/x509-limbo/, Apache-2.0), so every clone runs it;
# CERTMINT_LIMBO_DIR points at another copy.  Skips without python3.
. "$top_srcdir/tests/cli/lib.sh"

data="${CERTMINT_LIMBO_DIR:-$top_srcdir/tests/conformance/x509-limbo}"
[ -f "$data/limbo.json" ] && [ -f "$data/certtool-3.7.9-results.json" ] ||
	skip_all "x509-limbo data not found in $data"
need python3

py="$top_srcdir/tests/conformance/limbo.py"
listed="$top_srcdir/tests/conformance/limbo-disagreements.txt"

# One TAP line per case; the plan is printed here, after one more check.
python3 "$py" "$CERTMINT" "$data" "$listed" >"$WORK/tap"
rc=$?
grep -v '^1\.\.' "$WORK/tap"
T_N=$(grep -c '^\(not \)\?ok ' "$WORK/tap")
[ "$rc" -eq 0 ] || T_FAIL=$((T_FAIL + 1))

# The list is what makes a disagreement pass: without it, exactly the
# listed cases must fail.
: >"$WORK/empty.txt"
python3 "$py" "$CERTMINT" "$data" "$WORK/empty.txt" >"$WORK/tap0"
rc0=$?
got=$(sed -n 's/^not ok [0-9]* - \([^ ]*\): .*/\1/p' "$WORK/tap0" | sort |
	tr '\n' ' ')
want=$(grep -v '^#' "$listed" | grep -v '^$' | cut -d' ' -f1 | sort |
	tr '\n' ' ')
if [ "$rc0" -ne 0 ] && [ "$got" = "$want" ]; then
	ok "without the list, exactly the listed cases fail: $want"
else
	not_ok "without the list: exit $rc0, failing '$got', want '$want'"
fi
done_testing
