#!/bin/sh
# ci-summary.sh - counts the test results of the last `make check` from the
# automake .trs files (one :test-result: line per TAP test point) and ends
# with the line "N passed, N failed" (skips are counted on the line before).
cd "$(dirname "$0")/.."
find tests -name '*.trs' -exec cat {} + 2>/dev/null | awk '
	/^:test-result: (PASS|XFAIL)/ { p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	/^:test-result: SKIP/ { s++ }
	END {
		printf "%d skipped\n", s
		printf "%d passed, %d failed\n", p, f
	}'
