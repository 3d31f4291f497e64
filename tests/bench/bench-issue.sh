#!/bin/sh
# bench-issue.sh - issue #2 benchmark, run on demand (make bench), never in
# make check: per-certificate wall time of `certmint issue server` against
# openssl req -x509, certtool and mkcert (where installed), alternating in
# one run; batch certificates/s against the in-process ceiling.
#   ROUNDS=100 BATCH=4000 tests/bench/bench-issue.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${top_builddir:-$top}
ROUNDS=${ROUNDS:-100}
BATCH=${BATCH:-4000}
work=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The real binary, not libtool's wrapper script (which costs a shell); with
# a build that links the program statically there is no wrapper.
if head -c 4 "$build/cmd/certmint" 2>/dev/null | grep -q ELF; then
	certmint=$build/cmd/certmint
elif [ -x "$build/cmd/.libs/certmint" ]; then
	certmint=$build/cmd/.libs/certmint
	LD_LIBRARY_PATH=$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
else
	certmint=$build/cmd/certmint
fi
if grep -q -- '-fsanitize' "$build/Makefile" 2>/dev/null; then
	echo "warning: this build has sanitizers on; numbers are not" \
	    "representative (./configure without --enable-sanitizers)" >&2
fi
cc -O2 -o "$work/ceiling" "$top/tests/bench/ceiling.c" \
	$(pkg-config --cflags --libs gnutls)
ceiling=$("$work/ceiling" 3 | awk '{print $2}')
echo "machine: $(nproc) cores; $(uname -r)"
python3 "$top/tests/bench/bench_issue.py" "$work" "$ROUNDS" "$certmint" \
	"$ceiling" "$BATCH"
