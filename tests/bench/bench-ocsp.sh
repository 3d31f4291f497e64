#!/bin/sh
# bench-ocsp.sh - OCSP requests/s and p99 latency under a loopback load
# (POST, kept-alive connections): certmint ocsp serve against the openssl
# ocsp -index responder with the same load, in the same run.  The equal
# load is tests/bench/ocsp-load.c (compiled here): wrk cannot drive
# openssl ocsp (OpenSSL 3.0's responder spins on wrk's probe connection,
# which closes without a request).  certmint is also measured with wrk,
# whose client costs less, so it shows the responder's own ceiling.
# openssl ocsp -port cannot bind loopback only, so both responders and the
# load run inside a private network namespace (unshare -n, root); without
# one, the openssl run is skipped.  Not a test.
#   CERTMINT=path/to/certmint DURATION=5 sh tests/bench/bench-ocsp.sh
set -e
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CERTMINT:=$top_builddir/cmd/certmint}"
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
LUA="$top_srcdir/tests/bench/ocsp-post.lua"
PYLOAD="$top_srcdir/tests/bench/ocsp_load.py"
for t in openssl wrk python3; do
	command -v $t >/dev/null 2>&1 || { echo "bench-ocsp: $t missing"; exit 77; }
done
if [ "$1" != inner ]; then
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		exec unshare -n sh "$0" inner
	fi
	echo "# no network namespace (not root?): openssl ocsp -port is skipped"
	NO_OPENSSL=1
else
	ip link set lo up
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-ocsp.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; [ -n "$KEEP" ] || rm -rf "$W"' EXIT
cd "$W"
export CERTMINT_STORE="$W/store.db" HOME="$W"
BIN=$CERTMINT
if [ -x "$(dirname "$CERTMINT")/.libs/certmint" ]; then
	BIN="$(dirname "$CERTMINT")/.libs/certmint"
	export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# load NAME PORT [PATH]: wrk for DURATION s; sets RPS and P99 (ms)
load() {
	OCSP_REQ="$W/$1.req" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency \
		-s "$LUA" "http://127.0.0.1:$2${3:-/}" >"$1.wrk" 2>&1 || true
	RPS=$(sed -n 's/^Requests\/sec: *//p' "$1.wrk")
	P99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u);
		sub(/[a-z]+$/, "", v); if (u == "us") v /= 1000;
		else if (u == "s") v *= 1000; print v }' "$1.wrk")
	ERRS=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p; s/^ *Socket errors: *//p' "$1.wrk")
}

# The equal load: tests/bench/ocsp-load.c (THREADS threads), or the
# slower ocsp_load.py when there is no C compiler.
THREADS=${THREADS:-4}
if ${CC:-cc} -O2 -pthread -o "$W/ocsp-load" \
    "$top_srcdir/tests/bench/ocsp-load.c" 2>/dev/null; then
	LOADER="$W/ocsp-load"
	LOADNAME="ocsp-load.c, $THREADS threads"
else
	LOADER="python3 $PYLOAD"
	LOADNAME="ocsp_load.py, $THREADS processes"
fi
echo "# equal load: $LOADNAME, ${DURATION}s, kept-alive POST"

# pyload NAME PORT [PATH]: the equal load; sets RPS and P99 (ms)
pyload() {
	$LOADER "$2" "$W/$1.req" "$DURATION" "$THREADS" ${3:+"$3"} >"$1.py" 2>&1 || true
	RPS=$(sed -n 's/^rps=\([0-9]*\).*/\1/p' "$1.py")
	P99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$1.py")
	ERRS=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$1.py")
	[ "$ERRS" = 0 ] && ERRS=
	: "${RPS:=0}" "${P99:=0}"
}

# certmint: one CA, a few certificates, the responder on an ephemeral port.
"$BIN" init >/dev/null
"$BIN" ca show --pem >ca.pem
for n in a b c; do "$BIN" issue server $n.test >/dev/null; done
openssl ocsp -issuer ca.pem -cert b.test.crt -no_nonce -reqout cm.req 2>/dev/null
"$BIN" ocsp serve --listen 127.0.0.1:0 --timeout $((DURATION * 4 + 30)) \
	>cm.out 2>cm.err &
PIDS="$PIDS $!"
i=0
while ! grep -q listening cm.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's|.*127.0.0.1:\([0-9]*\)/$|\1|p' cm.out)
openssl ocsp -issuer ca.pem -cert b.test.crt -url "http://127.0.0.1:$PORT/" \
	-CAfile ca.pem 2>&1 | grep -q "b.test.crt: good" ||
	{ echo "bench-ocsp: certmint responder does not answer"; exit 1; }
load cm "$PORT"
printf 'certmint ocsp serve, wrk -c%d   %8.0f requests/s  p99 %7.2f ms  %s\n' \
	"$CONNS" "$RPS" "$P99" "${ERRS:+errors: $ERRS}"
pyload cm "$PORT"
CM_RPS=$RPS CM_P99=$P99
printf 'certmint ocsp serve, equal load %8.0f requests/s  p99 %7.2f ms  %s\n' \
	"$CM_RPS" "$CM_P99" "${ERRS:+errors: $ERRS}"

# certmint serve --ocsp on the same store, its plain-HTTP listener, /ocsp
# (issue 15: >= 90% of what ocsp serve does).
"$BIN" serve --ocsp --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
	--timeout $((DURATION * 4 + 30)) >sv.out 2>sv.err &
PIDS="$PIDS $!"
i=0
while ! grep -q '^CA bundle to trust' sv.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SPORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' sv.out)
cp cm.req sv.req
openssl ocsp -issuer ca.pem -cert b.test.crt -url "http://127.0.0.1:$SPORT/ocsp" \
	-CAfile ca.pem 2>&1 | grep -q "b.test.crt: good" ||
	{ echo "bench-ocsp: certmint serve does not answer OCSP"; cat sv.err; exit 1; }
load sv "$SPORT" /ocsp
printf 'certmint serve --ocsp, wrk -c%d %8.0f requests/s  p99 %7.2f ms  %s\n' \
	"$CONNS" "$RPS" "$P99" "${ERRS:+errors: $ERRS}"
pyload sv "$SPORT" /ocsp
SV_RPS=$RPS
printf 'certmint serve --ocsp, equal load %6.0f requests/s  p99 %7.2f ms  %s\n' \
	"$RPS" "$P99" "${ERRS:+errors: $ERRS}"
awk -v a="$SV_RPS" -v b="$CM_RPS" 'BEGIN {
	printf "serve --ocsp / ocsp serve %.2f (target >= 0.90)\n", (b > 0 ? a / b : 0) }'

if [ -z "$NO_OPENSSL" ]; then
	# openssl: its own P-256 CA, one valid certificate in the index.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout oca.key -out oca.pem -subj /CN=bench -days 30 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout leaf.key -out leaf.csr -subj /CN=leaf 2>/dev/null
	openssl x509 -req -in leaf.csr -CA oca.pem -CAkey oca.key \
		-set_serial 0x1234 -days 10 -out leaf.pem 2>/dev/null
	printf 'V\t491231235959Z\t\t1234\tunknown\t/CN=leaf\n' >index.txt
	openssl ocsp -issuer oca.pem -cert leaf.pem -no_nonce -reqout os.req 2>/dev/null
	openssl ocsp -index index.txt -port 18888 -rsigner oca.pem -rkey oca.key \
		-CA oca.pem >os.out 2>&1 &
	PIDS="$PIDS $!"
	sleep 1
	openssl ocsp -issuer oca.pem -cert leaf.pem -url http://127.0.0.1:18888/ \
		-CAfile oca.pem 2>&1 | grep -q "leaf.pem: good" ||
		{ echo "bench-ocsp: openssl responder does not answer"; exit 1; }
	pyload os 18888
	OS_RPS=$RPS OS_P99=$P99
	printf 'openssl ocsp -index, equal load %8.0f requests/s  p99 %7.2f ms  %s\n' \
		"$OS_RPS" "$OS_P99" "${ERRS:+errors: $ERRS}"
	awk -v a="$CM_RPS" -v b="$OS_RPS" -v p="$CM_P99" 'BEGIN {
		printf "ratio requests/s %.1fx (target >= 10x), certmint p99 %.2f ms (target < 5 ms)\n",
		    (b > 0 ? a / b : 0), p }'
fi
