#!/bin/sh
# bench-acme.sh - issue 15's speed target for certmint serve: the full ACME
# flow (account, newOrder, authorization, http-01 answered by the load
# client, finalize, certificate) for ORDERS orders, CONC at a time, over
# keep-alive connections (tests/bench/acme_load.py), against certmint serve
# and against Let's Encrypt's Pebble (PEBBLE_VA_NOSLEEP=1,
# PEBBLE_WFE_NONCEREJECT=0; pebble-challtestsrv as its DNS, every name
# 127.0.0.1) in the same run, ROUNDS times alternating.  Targets: certmint
# >= 5x Pebble's orders per second, p99 per order < 50 ms.  Loopback only;
# everything started is stopped by PID.  Run on demand, never in make
# check.  Build without sanitizers first (./scripts/build.sh).
set -eu
. "$(dirname "$0")/bench-lib.sh"
ORDERS=${ORDERS:-200}
CONC=${CONC:-8}
ROUNDS=${ROUNDS:-2}
for p in pebble pebble-challtestsrv python3; do
	command -v "$p" >/dev/null 2>&1 || { echo "bench-acme: $p missing" >&2; exit 77; }
done
python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "bench-acme: python3-cryptography missing" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export CERTMINT_STORE="$work/store.db" HOME="$work"
port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
"$CM" init --permit .test --permit localhost --permit 127.0.0.0/8 \
    --permit ::1/128 >/dev/null 2>&1

# certmint serve: rate limits out of the way, validation on 127.0.0.1.
SP=$(port)
HP=$(port)
"$CM" serve --listen "127.0.0.1:$SP" --resolve '*.test=127.0.0.1' \
    --http01-port "$HP" --rate-orders 1000000 --rate-failures 1000000 \
    --rate-ip-orders 1000000 --rate-ip-failures 1000000 --timeout 3600 \
    >serve.out 2>serve.err &
pids="$pids $!"

# Pebble: its HTTPS certificate from a throwaway certmint CA.
"$CM" --store "$work/pebble-ca.db" issue server localhost 127.0.0.1 \
    >/dev/null 2>&1
"$CM" --store "$work/pebble-ca.db" ca show --pem >pebble-ca.pem
DP=$(port)
MP=$(port)
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DP" \
    -http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$MP" \
    >challtestsrv.log 2>&1 &
pids="$pids $!"
PP=$(port)
PM=$(port)
PH=$(port)
cat >pebble.json <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$PP",
  "managementListenAddress": "127.0.0.1:$PM",
  "certificate": "$work/localhost.crt", "privateKey": "$work/localhost.key",
  "httpPort": $PH, "tlsPort": $(port), "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
    pebble -config pebble.json -dnsserver "127.0.0.1:$DP" >pebble.log 2>&1 &
pids="$pids $!"

i=0
while { ! grep -q '^CA bundle to trust:' serve.out ||
    ! grep -q 'Listening on' pebble.log; } && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
DIR=$(sed -n 's/^ACME directory: //p' serve.out | head -1)
BUNDLE=$(sed -n 's/^CA bundle to trust: //p' serve.out)
PDIR="https://127.0.0.1:$PP/dir"
[ -n "$DIR" ] || { echo "bench-acme: serve did not start" >&2; cat serve.err >&2; exit 1; }
grep -q 'Listening on' pebble.log || { echo "bench-acme: pebble did not start" >&2; cat pebble.log >&2; exit 1; }

echo "bench-acme: $ORDERS orders, $CONC at a time, $ROUNDS rounds each, alternating"
r=0
: >certmint.json
: >pebble.jsonl
while [ $r -lt "$ROUNDS" ]; do
	python3 "$top/tests/bench/acme_load.py" "$DIR" "$BUNDLE" "$ORDERS" \
	    "$CONC" "$HP" "r$r.cm.test" | tee -a certmint.json |
	    sed 's/^/  certmint serve: /'
	python3 "$top/tests/bench/acme_load.py" "$PDIR" pebble-ca.pem "$ORDERS" \
	    "$CONC" "$PH" "r$r.pb.test" | tee -a pebble.jsonl |
	    sed 's/^/  pebble:         /'
	r=$((r + 1))
done
python3 - certmint.json pebble.jsonl <<'EOF'
import json, statistics, sys
cm = [json.loads(l) for l in open(sys.argv[1])]
pb = [json.loads(l) for l in open(sys.argv[2])]
med = lambda rows, k: statistics.median(r[k] for r in rows)
c, p = med(cm, "orders_per_s"), med(pb, "orders_per_s")
c99 = med(cm, "p99_ms")
print("certmint serve %.1f orders/s (p50 %.1f ms, p99 %.1f ms, failures %d)"
      % (c, med(cm, "p50_ms"), c99, sum(r["failures"] for r in cm)))
print("pebble         %.1f orders/s (p50 %.1f ms, p99 %.1f ms, failures %d)"
      % (p, med(pb, "p50_ms"), med(pb, "p99_ms"), sum(r["failures"] for r in pb)))
print("ratio %.2fx (target >= 5x); certmint p99 %.1f ms (target < 50 ms)"
      % (c / p if p else float("inf"), c99))
EOF
