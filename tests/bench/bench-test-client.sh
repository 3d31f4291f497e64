#!/bin/sh
# bench-test-client.sh - issue 13's speed target for test client: its own
# cost per scenario (listen, serve, classify, report) is at most 10% of a
# run with curl as the client.  In one run on the same machine: `certmint
# test client -- curl ...` over its N scenarios, against N bare curl calls
# to one `openssl s_server -www` (what the clients' own time is).
# certmint's share = (certmint run - N curls) / certmint run.  Loopback
# only; the server stops by itself (timeout) or by PID.  On demand, never
# in make check.
set -eu
. "$(dirname "$0")/bench-lib.sh"
ROUNDS=${ROUNDS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export CERTMINT_STORE="$work/store.db" HOME="$work"
"$CM" issue server localhost >/dev/null 2>&1
"$CM" ca show --pem >ca.pem
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 900 openssl s_server -accept "127.0.0.1:$port" -cert localhost.crt \
    -key localhost.key -www -quiet >/dev/null 2>&1 &
pid=$!
sleep 0.5
"$CM" test client --format json -- curl -sS --cacert {ca} \
    --resolve {name}:{port}:{addr} {url} >first.json 2>/dev/null || true
n=$(python3 -c 'import json; print(len(json.load(open("first.json"))["scenarios"]))')
ms() { python3 -c 'import time; print(time.monotonic() * 1000)'; }
: >cm.t
: >curl.t
i=0
while [ $i -lt "$ROUNDS" ]; do
	t0=$(ms)
	"$CM" test client -- curl -sS --cacert {ca} \
	    --resolve {name}:{port}:{addr} {url} >/dev/null 2>&1 || true
	t1=$(ms)
	j=0
	while [ $j -lt "$n" ]; do
		curl -sS --cacert ca.pem --resolve "localhost:$port:127.0.0.1" \
		    "https://localhost:$port/" >/dev/null 2>&1 || true
		j=$((j + 1))
	done
	t2=$(ms)
	echo "$t0 $t1" | awk '{ print $2 - $1 }' >>cm.t
	echo "$t1 $t2" | awk '{ print $2 - $1 }' >>curl.t
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cm=$(median cm.t)
cu=$(median curl.t)
echo "scenarios per run:             $n"
echo "certmint test client -- curl:  ${cm} ms (median of $ROUNDS)"
echo "$n bare curl calls:            ${cu} ms"
awk -v a="$cm" -v b="$cu" -v n="$n" 'BEGIN {
	printf "certmint per scenario:         %.2f ms\n", (a - b) / n
	printf "certmint share of the run:     %.1f%% (target <= 10%%)\n", 100 * (a - b) / a }'
