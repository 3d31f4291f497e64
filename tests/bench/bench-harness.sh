#!/bin/sh
# bench-harness.sh - speed of the TLS harness (on demand: make bench-harness;
# never part of make check).  Prints:
#   1. wall time of the default matrix of a server certificate (goal < 0.5 s)
#   2. harness handshakes/s (TLS 1.3, in-process, one core) against
#      `openssl s_time -new` on an openssl s_server on 127.0.0.1, same run
#      (goal: ratio >= 1.0)
#   3. the matrix against the same number of checks driven through one
#      openssl s_client / gnutls-cli process per scenario (goal >= 20x)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CERTMINT:=$top_builddir/cmd/certmint}"
C=$CERTMINT
# The libtool wrapper is a shell script: time the real binary.
if [ -x "$top_builddir/cmd/.libs/certmint" ]; then
	C=$top_builddir/cmd/.libs/certmint
	LD_LIBRARY_PATH=$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi
for t in openssl python3; do
	command -v $t >/dev/null || { echo "bench-harness: $t missing"; exit 77; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export HOME="$WORK" CERTMINT_STORE="$WORK/store.db"
unset CERTMINT_PASSPHRASE
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 ::1 >/dev/null 2>&1
"$C" ca show --pem >ca.crt

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.1f' % (a / b if b else 0))" "$1" "$2"; }

echo "== 1. default matrix of a server certificate (localhost 127.0.0.1 ::1)"
N=$("$C" test --cert localhost --format tap | head -1 | sed 's/^1\.\.//')
best=999
for i in 1 2 3 4 5; do
	t0=$(now); "$C" test --cert localhost --format tap >/dev/null; t1=$(now)
	e=$(elapsed "$t0" "$t1")
	best=$(python3 -c "print(min($best, $e))")
done
echo "scenarios: $N   best of 5: ${best} s   (goal < 0.5 s)"
MATRIX=$best

echo "== 2. handshakes/s: harness (in-process, TLS 1.3) vs openssl s_time -new"
K=2000
{
	echo "[defaults]"
	echo "server_cert = localhost.crt"
	echo "server_key = localhost.key"
	echo "trust = ca.crt"
	echo "name = localhost"
	echo "version = tls1.3"
	i=0
	while [ $i -lt $K ]; do echo "[scenario s$i]"; echo "expect = ok"; i=$((i + 1)); done
} >many.scn
t0=$(now); "$C" test many.scn --format tap >/dev/null; t1=$(now)
e=$(elapsed "$t0" "$t1")
HS=$(python3 -c "print('%.0f' % ($K / $e))")
echo "harness: $K handshakes (+ verification + data) in $e s = $HS/s"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert localhost.crt \
    -key localhost.key -www -tls1_3 -quiet >/dev/null 2>&1 </dev/null &
SRV=$!
sleep 0.5
openssl s_time -connect "127.0.0.1:$PORT" -new -time 5 -CAfile ca.crt \
    -tls1_3 >s_time.out 2>&1
ST=$(python3 -c '
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"(\d+) connections in (\d+) real seconds", t)
print("%.0f" % (int(m.group(1)) / int(m.group(2))) if m else 0)' s_time.out)
echo "openssl s_time -new: $ST connections/s (real time)"
echo "ratio harness / s_time: $(ratio "$HS" "$ST")x   (goal >= 1.0)"

echo "== 3. one process per scenario ($N checks against an openssl s_server)"
names="localhost xlocalhost sub.localhost LOCALHOST"
t0=$(now)
i=0
while [ $i -lt "$N" ]; do
	for nm in $names; do
		[ $i -ge "$N" ] && break
		openssl s_client -connect "127.0.0.1:$PORT" -CAfile ca.crt \
		    -verify_return_error -verify_hostname "$nm" -servername "$nm" \
		    </dev/null >/dev/null 2>&1
		i=$((i + 1))
	done
done
t1=$(now)
OS=$(elapsed "$t0" "$t1")
echo "openssl s_client x $N: $OS s = $(python3 -c "print('%.0f' % ($N / $OS))")/s;" \
    "matrix is $(ratio "$OS" "$MATRIX")x faster (goal >= 20x)"
if command -v gnutls-cli >/dev/null; then
	t0=$(now)
	i=0
	while [ $i -lt "$N" ]; do
		for nm in $names; do
			[ $i -ge "$N" ] && break
			gnutls-cli --x509cafile ca.crt -p "$PORT" \
			    --verify-hostname "$nm" 127.0.0.1 </dev/null \
			    >/dev/null 2>&1
			i=$((i + 1))
		done
	done
	t1=$(now)
	GS=$(elapsed "$t0" "$t1")
	echo "gnutls-cli x $N: $GS s = $(python3 -c "print('%.0f' % ($N / $GS))")/s;" \
	    "matrix is $(ratio "$GS" "$MATRIX")x faster (goal >= 20x)"
fi
