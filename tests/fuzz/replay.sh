#!/bin/sh
# replay.sh - every fuzz target over its committed corpus (TAP).
#
# tests/fuzz/corpus/<name>/ holds valid and invalid seeds and every input
# that once crashed; tests/fuzz/replay-<name> (fuzz-<name>.c + replay.c)
# feeds each file to the target, which aborts on a crash or a broken
# promise.  Under --enable-sanitizers this is an ASan+UBSan run.

. "$top_srcdir/tests/cli/lib.sh"

for t in profile name batch ocsp jws csr; do
	corpus="$top_srcdir/tests/fuzz/corpus/$t"
	prog="$top_builddir/tests/fuzz/replay-$t"
	n=$(ls "$corpus" | wc -l)
	if [ "$n" -lt 5 ]; then
		not_ok "fuzz-$t: corpus $corpus has $n inputs"
		continue
	fi
	if "$prog" "$corpus" >"$WORK/out" 2>"$WORK/err" &&
	    grep -qx "$n inputs" "$WORK/out"; then
		ok "fuzz-$t: $n inputs replayed"
	else
		not_ok "fuzz-$t: replay failed"
		diag "$WORK/out" "$WORK/err"
	fi
done
# The driver must not pass what it cannot read.
if "$top_builddir/tests/fuzz/replay-name" "$WORK/none" >"$WORK/out" \
    2>"$WORK/err"; then
	not_ok "replay: a missing input passes"
else
	ok "replay: a missing input fails"
fi
done_testing
