#!/bin/sh
# bench-test-server.sh - issue 13's speed target for test server: the full
# probe set (server certificate, mTLS controls, transport rules; TLS 1.2
# and 1.3) against a local `openssl s_server -Verify 1 -verify_return_error
# -www` in under 1 s, probes in-process.  Compared in the same run with
# the same number of bare `openssl s_client` handshakes against the same
# server (what a shell script of probes would cost).  Loopback only; the
# server stops by itself (timeout) or by PID.  Run on demand, never in
# make check.
set -eu
. "$(dirname "$0")/bench-lib.sh"
ROUNDS=${ROUNDS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export CERTMINT_STORE="$work/store.db" HOME="$work"
"$CM" issue server localhost >/dev/null 2>&1
"$CM" issue client alice@example.test >/dev/null 2>&1
"$CM" ca show --pem >ca.pem
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 600 openssl s_server -accept "127.0.0.1:$port" -cert localhost.crt \
    -key localhost.key -CAfile ca.pem -Verify 1 -verify_return_error -www \
    -quiet >/dev/null 2>&1 &
pid=$!
sleep 0.5
# The first run makes the twins (recorded once); not timed.
"$CM" test server "127.0.0.1:$port" --name localhost \
    --client alice@example.test --format json >first.json
probes=$(python3 -c 'import json; print(sum(1 for p in json.load(open("first.json"))["probes"] if p["verdict"] != "skipped"))')
ms() { python3 -c 'import time; print(time.monotonic() * 1000)'; }
i=0
: >cm.t
: >ossl.t
while [ $i -lt "$ROUNDS" ]; do
	t0=$(ms)
	"$CM" test server "127.0.0.1:$port" --name localhost \
	    --client alice@example.test >/dev/null
	t1=$(ms)
	j=0
	while [ $j -lt "$probes" ]; do
		openssl s_client -connect "127.0.0.1:$port" -brief </dev/null \
		    -cert alice@example.test.crt -key alice@example.test.key \
		    -CAfile ca.pem >/dev/null 2>&1 || true
		j=$((j + 1))
	done
	t2=$(ms)
	echo "$t0 $t1" | awk '{ print $2 - $1 }' >>cm.t
	echo "$t1 $t2" | awk '{ print $2 - $1 }' >>ossl.t
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cm=$(median cm.t)
os=$(median ossl.t)
echo "probes per run:              $probes"
echo "certmint test server (full): ${cm} ms (median of $ROUNDS; target < 1000)"
echo "$probes x openssl s_client:  ${os} ms"
awk -v a="$cm" -v b="$os" 'BEGIN { printf "ratio certmint/openssl:      %.2f\n", a / b }'
