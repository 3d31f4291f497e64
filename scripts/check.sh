#!/bin/sh
# check.sh - the test command: installs the dependencies, builds with
# AddressSanitizer and UndefinedBehaviorSanitizer and -Werror, runs the
# test suite, and ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
# Nothing here reads standard input; CI may start us with it closed, and
# libtool fails on a closed descriptor 0.
exec </dev/null
./scripts/install-deps.sh || exit 2
./scripts/build.sh --enable-failpoints --enable-sanitizers --enable-werror || {
	echo "0 passed, 1 failed (build)"; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
make -s -j"$jobs" check >check.log 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log |
	grep -Ev '^(PASS|SKIP):' | head -50
if [ $rc -ne 0 ]; then
	# Show what failed, briefly.
	for log in $(grep -l -E '^:global-test-result: (FAIL|ERROR)' \
	    $(find tests -name '*.trs') 2>/dev/null); do
		echo "---- ${log%.trs}.log"
		grep -E '^(not ok|#)' "${log%.trs}.log" | head -40
	done
fi
./scripts/ci-summary.sh
exit $rc
