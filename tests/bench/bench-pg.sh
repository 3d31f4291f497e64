#!/bin/sh
# bench-pg.sh - the PostgreSQL store against the SQLite one, the same work
# in one run (issue 16), on a throwaway cluster over a Unix socket
# (tests/pg/pg-lib.sh; the server with its default durability: fsync on,
# as a team's would be):
#   1. issue --batch of BATCH (5000) requests: certificates/s on each;
#      target PostgreSQL >= 50% of SQLite;
#   2. 4 concurrent processes x SINGLES (100) single 'issue server':
#      certificates/s on each; target PostgreSQL >= 2x SQLite;
#   3. OCSP answers (ocsp serve, kept responses) on each, with the load of
#      bench-ocsp.sh (ocsp-load.c); target: unchanged;
#   4. the acceptance runs at full size: 4 x WRITERS (500) issue on one
#      PostgreSQL store (distinct serials, failures), and store copy of a
#      store of COPY (10000) certificates to PostgreSQL and back (seconds,
#      store check, identical inventories).
# Not a test.   make bench-pg   or   BATCH=1000 sh tests/bench/bench-pg.sh
set -u
. "$(dirname "$0")/bench-lib.sh"
. "$top/tests/pg/pg-lib.sh"
BATCH=${BATCH:-5000}
SINGLES=${SINGLES:-100}
WRITERS=${WRITERS:-500}
COPY=${COPY:-10000}
DURATION=${DURATION:-5}

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-pg.XXXXXX")
chmod 755 "$W"
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; pg_stop; rm -rf "$W"' EXIT
cd "$W" || exit 1
export HOME="$W/home"
mkdir -m 700 home sq
# The server as a team runs it: fsync on (pg-lib.sh turns it off for the
# tests).
pg_find_bin || { echo "bench-pg: PostgreSQL server binaries not found"; exit 77; }
pg_start "$W/pg" || { echo "bench-pg: the cluster did not start"; exit 1; }
pg_stop
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/server.log" \
    -o "-c listen_addresses='' -k $PG_DIR -p $PG_PORT -c fsync=on \
    -c max_connections=60" start >/dev/null || exit 1
PG=$PG_URI
SQ="$W/sq/store.db"
echo "# certmint: $CM"
echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') over a Unix socket (fsync on); SQLite $(sqlite3 --version | awk '{print $1}') on $(df -T "$W" | awk 'NR == 2 {print $2}')"

now_ms() { date +%s%3N; }
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }'; }

# ---- 1. issue --batch ----
python3 -c "import sys
for i in range($BATCH): print('server b%d.test' % i)" >batch.txt
for b in sq pg; do
	[ $b = sq ] && S=$SQ || S=$PG
	"$CM" --store "$S" init >/dev/null
	mkdir "out-$b"
	t0=$(now_ms)
	"$CM" --store "$S" issue --batch batch.txt --out-dir "out-$b" >/dev/null ||
	    echo "bench-pg: batch on $b failed"
	eval "B_$b=\$(rate $BATCH \$((\$(now_ms) - t0)))"
	rm -rf "out-$b"
done
printf '1. issue --batch of %d:        SQLite %6s/s   PostgreSQL %6s/s   ratio %s (target >= 0.50)\n' \
    "$BATCH" "$B_sq" "$B_pg" "$(awk -v a="$B_pg" -v b="$B_sq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"

# ---- 2. 4 concurrent single issues ----
singles() {
	for w in 1 2 3 4; do
		(
			for i in $(seq 1 "$SINGLES"); do
				"$CM" --store "$1" issue server "s$w-$i.test" \
				    --cert "s/$w-$i.crt" --key "s/$w-$i.key" \
				    >/dev/null 2>>s/err || echo x >>s/fail
			done
		) &
	done
	wait
}
for b in sq pg; do
	[ $b = sq ] && S=$SQ || S=$PG
	rm -rf s && mkdir s
	t0=$(now_ms)
	singles "$S"
	eval "S_$b=\$(rate $((4 * SINGLES)) \$((\$(now_ms) - t0)))"
	eval "F_$b=\$(cat s/fail 2>/dev/null | wc -l)"
done
printf '2. 4 x %d single issue:        SQLite %6s/s   PostgreSQL %6s/s   ratio %s (target >= 2)  failures %s/%s\n' \
    "$SINGLES" "$S_sq" "$S_pg" "$(awk -v a="$S_pg" -v b="$S_sq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" "$F_sq" "$F_pg"

# ---- 3. OCSP ----
if ${CC:-cc} -O2 -pthread -o ocsp-load "$top/tests/bench/ocsp-load.c" 2>/dev/null; then
	for b in sq pg; do
		[ $b = sq ] && S=$SQ || S=$PG
		"$CM" --store "$S" ca show --pem >ca-$b.pem
		openssl ocsp -issuer ca-$b.pem -cert "s/1-1.crt" -no_nonce \
		    -reqout $b.req 2>/dev/null
		"$CM" --store "$S" ocsp serve --listen 127.0.0.1:0 \
		    --timeout $((DURATION * 4 + 30)) >$b.out 2>$b.err &
		PIDS="$PIDS $!"
		i=0
		while ! grep -q listening $b.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		port=$(sed -n 's|.*127.0.0.1:\([0-9]*\)/$|\1|p' $b.out)
		./ocsp-load "$port" "$W/$b.req" "$DURATION" 4 >$b.load 2>&1
		eval "O_$b=\$(sed -n 's/^rps=\([0-9]*\).*/\1/p' $b.load)"
		eval "P_$b=\$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' $b.load)"
	done
	printf '3. OCSP (ocsp serve, 4 threads): SQLite %6s/s p99 %s ms   PostgreSQL %6s/s p99 %s ms\n' \
	    "$O_sq" "$P_sq" "$O_pg" "$P_pg"
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	PIDS=
else
	echo "3. OCSP: no C compiler for ocsp-load.c, skipped"
fi

# ---- 4. the acceptance runs at full size ----
psql -X -q -d "$PG" -c "CREATE DATABASE writers" >/dev/null
PW=$(printf '%s' "$PG" | sed 's|:///certmint?|:///writers?|')
"$CM" --store "$PW" init >/dev/null
rm -rf s && mkdir s
t0=$(now_ms)
SINGLES=$WRITERS singles "$PW"
ms=$(($(now_ms) - t0))
printf '4a. 4 x %d issue on one PostgreSQL store: %s distinct serials, %s rows, %s failures, %s/s\n' \
    "$WRITERS" "$(psql -X -At -d "$PW" -c 'SELECT count(DISTINCT serial) FROM certs')" \
    "$(psql -X -At -d "$PW" -c 'SELECT count(*) FROM certs')" \
    "$(cat s/fail 2>/dev/null | wc -l)" "$(rate $((4 * WRITERS)) $ms)"
python3 -c "import sys
for i in range($COPY): print('server c%d.test' % i)" >copy.txt
C1="$W/sq/c1.db" C2="$W/sq/c2.db"
printf 'a pass phrase for the copy\n' >pass.txt
"$CM" --store "$C1" init --passphrase-file pass.txt >/dev/null
mkdir c
# The leaf keys are not kept (each kept one costs a PBKDF2 of 600,000
# rounds under the passphrase); the CA's and ten leaves' are.
"$CM" --store "$C1" issue --batch copy.txt --out-dir c --no-keep-key \
    --passphrase-file pass.txt >/dev/null
for i in $(seq 1 10); do
	"$CM" --store "$C1" issue server "k$i.test" --cert "c/k$i.crt" \
	    --key "c/k$i.key" --passphrase-file pass.txt >/dev/null
done
for i in $(seq 1 100); do "$CM" --store "$C1" revoke "c$i.test" >/dev/null 2>&1; done
psql -X -q -d "$PG" -c "CREATE DATABASE copy" >/dev/null
PC=$(printf '%s' "$PG" | sed 's|:///certmint?|:///copy?|')
t0=$(now_ms)
"$CM" store copy "$C1" "$PC" >/dev/null
t1=$(now_ms)
"$CM" store copy "$PC" "$C2" >/dev/null
t2=$(now_ms)
"$CM" --store "$PC" store check --passphrase-file pass.txt >check-pg.out 2>&1
ck_pg=$?
"$CM" --store "$C2" store check --passphrase-file pass.txt >check-sq.out 2>&1
ck_sq=$?
"$CM" --store "$C1" list --json >l1.json
"$CM" --store "$C2" list --json >l2.json
cmp -s l1.json l2.json && same=identical || same=DIFFERENT
printf '4b. store copy of %d certificates (100 revoked, a passphrase): to PostgreSQL %s ms, back %s ms; store check exit %s/%s; inventories %s\n' \
    "$COPY" $((t1 - t0)) $((t2 - t1)) "$ck_pg" "$ck_sq" "$same"
