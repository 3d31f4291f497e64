# bench-lib.sh - sourced by the benchmarks: sets top (the source tree)
# and CM, the certmint to measure: $CERTMINT, else the program itself
# rather than libtool's wrapper script (a shell and three seds per run,
# 40 ms that an installed certmint does not spend).
top=$(cd "$(dirname "$0")/../.." && pwd)
CM=${CERTMINT:-$top/cmd/certmint}
if [ -z "${CERTMINT:-}" ] && [ -x "$top/cmd/.libs/certmint" ]; then
	CM=$top/cmd/.libs/certmint
	export LD_LIBRARY_PATH="$top/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
