#!/bin/sh
# backend.sh - the PostgreSQL store as a team uses it (issue 16): a store
# named by URI, libpq's environment, or a keyword string; the schema version
# in certmint_schema, a newer one refused untouched; many writers at once
# (distinct serials, no error surfaced, strictly increasing CRL numbers);
# two OCSP responders hearing a revocation made elsewhere, and riding out a
# restart of the server; the server stopped during a batch (exit 3, nothing
# half-written) and the next command working once it is back; store copy
# SQLite -> PostgreSQL -> SQLite giving the same inventory.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/pg/pg-lib.sh"
need python3
need openssl
need psql
C=$CERTMINT
cd "$WORK" || exit 1
chmod 755 "$WORK"
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; pg_stop; rm -rf "$WORK"' EXIT
pg_start "$WORK/pg"
case $? in
0) ;;
77) skip_all "PostgreSQL server binaries (initdb, pg_ctl) not found" ;;
*) echo "Bail out! the throwaway PostgreSQL cluster did not start"
   diag "$WORK/pg/server.log"; exit 1 ;;
esac
U=$PG_URI
export CERTMINT_STORE="$U"
pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 \
	    -l "$PG_DIR/server.log" -o "-c listen_addresses='' \
	    -k $PG_DIR -p $PG_PORT -c fsync=off -c max_connections=60" \
	    start >/dev/null 2>&1
}
pg_halt() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 -m fast stop \
	    >/dev/null 2>&1
}

# ---- a new user's first command, three ways of naming the database ----
check "issue server localhost on an empty database makes the dev CA" \
    $C issue server localhost
check "... the pair is written" test -s localhost.crt -a -s localhost.key
is "... the key is 0600" "$(stat -c %a localhost.key)" 600
check "... and verifies under the CA (openssl -x509_strict)" sh -c \
    "$C ca show --pem > ca.pem && openssl verify -x509_strict -CAfile ca.pem localhost.crt"
check "postgresql:///certmint with PGHOST, PGPORT, PGUSER (libpq's own)" \
    env PGHOST="$PG_HOST" PGPORT="$PG_PORT" PGUSER=postgres \
    CERTMINT_STORE=postgresql:///certmint $C issue server env.test
check "a libpq keyword string" $C --store \
    "host=$PG_HOST port=$PG_PORT dbname=certmint user=postgres" \
    issue server kw.test
is "three certificates in the one store" \
    "$($C list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["certificates"]))')" 3

# list --json has the shape it has on SQLite.
S="$WORK/shape.db"
$C --store "$S" issue server localhost --cert s.crt --key s.key >/dev/null 2>&1
shape() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sorted(d), sorted(d["certificates"][0]),
      sorted(type(v).__name__ for v in d["certificates"][0].values()))'
}
is "list --json: the same shape on both backends" \
    "$($C list --json --name localhost | shape)" \
    "$($C --store "$S" list --json | shape)"

# ---- schema ----
latest=$(sqlite3 "$S" "PRAGMA user_version")
is "the schema version is in certmint_schema, as SQLite's user_version" \
    "$(pg_psql -c 'SELECT version FROM certmint_schema')" "$latest"
pg_psql -c "UPDATE certmint_schema SET version = 99"
before=$(pg_psql -c "SELECT count(*) FROM certs")
expect_fail 3 "schema 99.*upgrade certmint" "a database newer than certmint" \
    $C issue server newer.test
is "... refused untouched" "$(pg_psql -c "SELECT count(*) FROM certs") $(pg_psql -c 'SELECT version FROM certmint_schema')" "$before 99"
pg_psql -c "UPDATE certmint_schema SET version = $latest"

# Four processes migrating a new database at once: they serialise on the
# writers' advisory lock; one migrates, the others find it done.
pg_psql -d postgres -c "CREATE DATABASE race"
R=$(printf '%s' "$U" | sed 's|:///certmint?|:///race?|')
for i in 1 2 3 4; do
	$C --store "$R" init --name "CA $i" >race$i.out 2>&1 &
	eval "rp$i=$!"
done
fails=0
for i in 1 2 3 4; do eval "wait \$rp$i" || fails=$((fails + 1)); done
is "4 hosts migrating one new database at once: no failure" "$fails" 0
is "... one schema, four CAs" \
    "$(PG_DB=race pg_psql -c 'SELECT count(*), max(version) FROM certmint_schema') $($C --store "$R" ca list | grep -c '^CA ')" \
    "1|$latest 4"

# ---- many writers ----
N=${CERTMINT_PG_WRITERS_N:-25}
writers() {
	_store=$1
	for w in 1 2 3 4; do
		(
			f=0
			for i in $(seq 1 "$N"); do
				$C --store "$_store" issue server "w$w-$i.test" \
				    --cert "w/$w-$i.crt" --key "w/$w-$i.key" \
				    >/dev/null 2>>"w/err$w" || f=$((f + 1))
			done
			echo "$f" >"w/fail$w"
		) &
		eval "wp$w=$!"
	done
	for w in 1 2 3 4; do eval "wait \$wp$w"; done
	cat w/fail1 w/fail2 w/fail3 w/fail4 | awk '{ s += $1 } END { print s }'
}
rm -rf w && mkdir w
is "4 processes x $N issue server at once on PostgreSQL: 0 failures" \
    "$(writers "$U")" 0
diag w/err1 w/err2 w/err3 w/err4
is "... $((4 * N)) distinct serials, $((4 * N)) inventory rows" \
    "$(pg_psql -c "SELECT count(DISTINCT serial), count(*) FROM certs WHERE cn LIKE 'w%'")" \
    "$((4 * N))|$((4 * N))"
for f in w/*.crt; do openssl x509 -noout -serial -in "$f"; done | sort -u >w/serials
is "... and the files carry $((4 * N)) distinct serials" "$(wc -l <w/serials)" "$((4 * N))"
rm -rf w && mkdir w
SW="$WORK/writers.db"
$C --store "$SW" init >/dev/null 2>&1
is "the same on one SQLite store: 0 failures" "$(writers "$SW")" 0
is "... $((4 * N)) distinct serials" \
    "$(sqlite3 "$SW" "SELECT count(DISTINCT serial) FROM certs")" "$((4 * N))"

# cRLNumber strictly increasing with concurrent crl runs.
for w in 1 2 3 4; do
	( for i in 1 2 3 4 5; do $C crl --out "crl$w-$i.der" >/dev/null 2>&1 ||
	    echo fail; done ) >crlfail$w &
	eval "cp$w=$!"
done
for w in 1 2 3 4; do eval "wait \$cp$w"; done
is "4 x 5 concurrent crl runs: no failure" "$(cat crlfail1 crlfail2 crlfail3 crlfail4)" ""
is "... 20 distinct CRL numbers, 1 to 20" \
    "$(pg_psql -c "SELECT count(DISTINCT number), min(number), max(number) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE a.name = 'certmint dev CA'")" \
    "20|1|20"

# ---- OCSP: two responders, a revocation through the CLI ----
# start NAME: ocsp serve on an ephemeral loopback port; sets PORT_NAME.
start() {
	$C ocsp serve --listen 127.0.0.1:0 >"$1.out" 2>"$1.err" &
	PIDS="$PIDS $!"
	_i=0
	while [ $_i -lt 100 ]; do
		_p=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/$|\1|p' "$1.out")
		[ -n "$_p" ] && { eval "PORT_$1=$_p"; return 0; }
		_i=$((_i + 1)); sleep 0.1
	done
	diag "$1.err"
	return 1
}
# status PORT CERT: good, revoked or the error
status() {
	openssl ocsp -issuer ca.pem -cert "$2" -url "http://127.0.0.1:$1/" \
	    -CAfile ca.pem -no_nonce 2>&1 | sed -n "s|^$2: *||p" | head -1
}
$C issue server ocsp1.test >/dev/null 2>&1
$C issue server ocsp2.test >/dev/null 2>&1
check "two ocsp serve on the store" sh -c 'true'
start r1 && start r2
is "both answer good" "$(status "$PORT_r1" ocsp1.test.crt) $(status "$PORT_r2" ocsp1.test.crt)" "good good"
$C revoke ocsp1.test >/dev/null 2>&1
sleep 1
is "revoked through the CLI: both answer revoked within 1 s" \
    "$(status "$PORT_r1" ocsp1.test.crt) $(status "$PORT_r2" ocsp1.test.crt)" \
    "revoked revoked"
pg_halt
is "the database stopped: the responders answer from the responses they keep" \
    "$(status "$PORT_r1" ocsp2.test.crt) $(status "$PORT_r2" ocsp1.test.crt)" \
    "good revoked"
pg_restart
$C revoke ocsp2.test >/dev/null 2>&1
ok2=
for i in $(seq 1 30); do
	[ "$(status "$PORT_r1" ocsp2.test.crt) $(status "$PORT_r2" ocsp2.test.crt)" = "revoked revoked" ] &&
	    { ok2=yes; break; }
	sleep 0.2
done
is "... restarted: they reconnect and hear the next revocation" "$ok2" yes
for p in $PIDS; do kill "$p" 2>/dev/null; done
PIDS=

# ---- the server stopped during a batch ----
# A batch makes its keys and certificates, records them in one
# transaction, then places the files: the server stops while it works.
python3 -c 'for i in range(3000): print("server b%d.test" % i)' >reqs.txt
n0=$(pg_psql -c "SELECT count(*) FROM certs")
mkdir b
$C issue --batch reqs.txt --out-dir b >batch.out 2>batch.err &
BP=$!
sleep 0.3
pg_halt
wait $BP
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "# SKIP the batch finished before the server stopped"
else
	is "PostgreSQL stopped during a batch: exit 3" "$rc" 3
	is "... one line" "$(wc -l <batch.err)" 1
	check "... saying the connection is lost" grep -q "connection" batch.err
fi
pg_restart
n1=$(pg_psql -c "SELECT count(*) FROM certs")
is "... nothing half-written: no certificate recorded, no file left" \
    "$((n1 - n0)) $(ls -A b | wc -l)" "0 0"
check "restarted: the next command works" $C issue server after.test
check "... and the store holds together" $C store check

# ---- store copy: SQLite -> PostgreSQL -> SQLite ----
M=${CERTMINT_PG_COPY_N:-200}
A="$WORK/a.db"
printf 'pass phrase for the copy\n' >pass.txt
chmod 600 pass.txt
$C --store "$A" init --passphrase-file pass.txt >/dev/null 2>&1
python3 -c "import sys
for i in range($M): print('server c%d.test' % i)" >creqs.txt
mkdir c
# Leaf keys not kept but three (a kept key costs a PBKDF2 of 600,000 rounds
# under the passphrase).
check "a SQLite store with $M certificates behind a passphrase" \
    $C --store "$A" issue --batch creqs.txt --out-dir c --no-keep-key \
    --passphrase-file pass.txt
for i in 1 2 3; do
	$C --store "$A" issue server "k$i.test" --cert "c/k$i.crt" \
	    --key "c/k$i.key" --passphrase-file pass.txt >/dev/null 2>&1
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	$C --store "$A" revoke "c$i.test" --reason keyCompromise >/dev/null 2>&1
done
$C --store "$A" crl --passphrase-file pass.txt >/dev/null 2>&1
pg_psql -d postgres -c "CREATE DATABASE copy"
P=$(printf '%s' "$U" | sed 's|:///certmint?|:///copy?|')
check "store copy SQLite -> PostgreSQL" $C store copy "$A" "$P"
check "... store check passes there, the keys opened with the passphrase" \
    $C --store "$P" store check --passphrase-file pass.txt
expect_fail 2 "not empty" "a second copy into it is refused" \
    $C store copy "$A" "$P"
check "store copy PostgreSQL -> SQLite" $C store copy "$P" "$WORK/b.db"
check "... store check passes on the copy" \
    $C --store "$WORK/b.db" store check --passphrase-file pass.txt
$C --store "$A" list --json >a.json
$C --store "$WORK/b.db" list --json >b.json
check "the two SQLite files list identical inventories" cmp a.json b.json
is "... $((M + 3)) certificates, 10 revoked" \
    "$(python3 -c 'import json; d = json.load(open("b.json"))["certificates"]; print(len(d), sum(c["status"] == "revoked" for c in d))')" \
    "$((M + 3)) 10"
check "the copy issues on (its ids follow the copied ones)" \
    $C --store "$P" issue server next.test --passphrase-file pass.txt

done_testing
