#!/bin/sh
# build.sh [CONFIGURE-ARGS...] - regenerates, configures (if needed) and
# builds certmint in the source tree.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
want="$*"
# Reconfigure when the configure arguments changed.
if [ ! -f Makefile ] || [ ! -f .configure-args ] ||
    [ "$(cat .configure-args)" != "$want" ]; then
	# Objects built with other flags (sanitizers or not) must not be
	# linked with the new ones: make does not see a flag change.
	if [ -f Makefile ]; then
		make -s clean >/dev/null 2>&1 || true
	fi
	./autogen.sh >/dev/null
	# shellcheck disable=SC2086
	./configure --quiet $want
	echo "$want" > .configure-args
fi
make -s -j"$jobs"
