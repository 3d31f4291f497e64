#!/bin/sh
# batch.sh - certmint issue --batch: many requests, one run, one
# transaction; all or nothing; a progress bar only on a terminal.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need sqlite3
need python3
need openssl
C=$CERTMINT
S=$CERTMINT_STORE
cd "$WORK" || exit 1
count() { sqlite3 "$S" "select count(*) from $1"; }

check "init" $C init --permit .test --permit 10.0.0.0/8 --permit @corp.test
$C ca show --pem >"$WORK/ca.crt"

# 200 requests: servers with one to three names, clients, peers; blank
# lines and comments in between.
python3 - "$WORK/reqs.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("# certmint batch\n\n")
    for i in range(200):
        k = i % 4
        if k == 0:
            f.write("server s%d.test\n" % i)
        elif k == 1:
            f.write("server w%d.test *.w%d.test 10.0.%d.%d  # two+IP\n"
                    % (i, i, i // 250, i % 250))
        elif k == 2:
            f.write("client u%d@corp.test\n" % i)
        else:
            f.write("peer\tp%d.test\tq%d.test\n" % (i, i))
        if i % 50 == 49:
            f.write("   # a comment after %d\n\n" % i)
PY
mkdir "$WORK/o"
start=$(date +%s%N)
check "issue --batch of 200 into --out-dir" $C issue --batch \
    "$WORK/reqs.txt" --out-dir "$WORK/o"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# 200 certificates in $ms ms"
out_has "it says 200" "Issued 200 certificates into"
is "200 .crt files" "$(find "$WORK/o" -name '*.crt' | wc -l)" 200
is "200 .key files" "$(find "$WORK/o" -name '*.key' | wc -l)" 200
is "nothing else in the out dir (no temp files)" \
    "$(find "$WORK/o" -type f ! -name '*.crt' ! -name '*.key' | wc -l)" 0
is "every key is 0600" \
    "$(find "$WORK/o" -name '*.key' ! -perm 0600 | wc -l)" 0
check "the files are named after the first name" test -s "$WORK/o/s0.test.crt" \
    -a -s "$WORK/o/w1.test.key" -a -s "$WORK/o/u2@corp.test.crt" \
    -a -s "$WORK/o/p3.test.crt"
check "list --json" sh -c "$C list --json >'$WORK/l.json'"
check "list --json: 200 certificates with their profiles and names" \
    python3 -c "import json, collections
c = json.load(open('$WORK/l.json'))['certificates']
assert len(c) == 200, len(c)
p = collections.Counter(x['profile'] for x in c)
assert p == {'server': 100, 'client': 50, 'peer': 50}, p
w = [x for x in c if x['names'][0] == 'w1.test'][0]
assert w['names'] == ['w1.test', '*.w1.test', '10.0.0.1'], w
assert len(set(x['serial'] for x in c)) == 200"
is "200 issue events" "$(sqlite3 "$S" "select count(*) from events where
    action = 'issue'")" 200
is "200 distinct keys" "$(sqlite3 "$S" "select count(distinct
    fingerprint) from certs")" 200
# A sample checked by openssl: every pair matches, every cert verifies.
bad=0
for n in s0.test w1.test u2@corp.test p3.test s196.test p199.test; do
	case $n in u*) pur=sslclient ;; *) pur=sslserver ;; esac
	openssl verify -x509_strict -purpose $pur -CAfile "$WORK/ca.crt" \
	    "$WORK/o/$n.crt" >/dev/null 2>&1 || bad=$((bad + 1))
	[ "$(openssl pkey -in "$WORK/o/$n.key" -pubout)" = \
	    "$(openssl x509 -in "$WORK/o/$n.crt" -noout -pubkey)" ] ||
	    bad=$((bad + 1))
done
is "sampled pairs match and verify (openssl)" "$bad" 0
check "different keys in two certificates" sh -c "test \"\$(openssl pkey \
    -in '$WORK/o/s0.test.key' -pubout)\" != \"\$(openssl pkey -in \
    '$WORK/o/s4.test.key' -pubout)\""

# A bad line 7: nothing written, no row, the message names FILE:7.
snapshot() { echo "$(count certs) $(count events) $(count keys)"; }
before=$(snapshot)
mkdir "$WORK/o2"
printf '%s\n' "server a1.test" "client b1@corp.test" "# comment" "" \
    "peer c1.test" "server d1.test e1.test" "server bad..name.test" \
    "server f1.test" >"$WORK/bad7.txt"
expect_fail 2 "bad7\.txt:7: .*bad\.\.name\.test" "a malformed name on line 7" \
    $C issue --batch "$WORK/bad7.txt" --out-dir "$WORK/o2"
is "... no file written" "$(ls -A "$WORK/o2")" ""
is "... no row added" "$(snapshot)" "$before"
printf '%s\n' "server a1.test" "server b1.test" "server c1.test" \
    "server d1.test" "server e1.test" "server f1.test" \
    "server outside.example.com" >"$WORK/nc7.txt"
expect_fail 2 "nc7\.txt:7: .*outside\.example\.com.*outside" \
    "a name outside the constraints on line 7" \
    $C issue --batch "$WORK/nc7.txt" --out-dir "$WORK/o2"
is "... no file written" "$(ls -A "$WORK/o2")" ""
is "... no row added" "$(snapshot)" "$before"
printf 'server a1.test\nserver b1.test\nserverx c1.test\n' >"$WORK/p3.txt"
expect_fail 2 "p3\.txt:3: .*serverx" "an unknown profile on line 3" \
    $C issue --batch "$WORK/p3.txt" --out-dir "$WORK/o2"
is "... no file written" "$(ls -A "$WORK/o2")" ""
printf 'server a1.test\nserver\n' >"$WORK/n2.txt"
expect_fail 2 "n2\.txt:2: expected a profile and at least one name" \
    "a profile without names on line 2" \
    $C issue --batch "$WORK/n2.txt" --out-dir "$WORK/o2"
is "... no row added" "$(snapshot)" "$before"
# A file in the way on the last request: the earlier ones are not kept.
echo keep >"$WORK/o2/z3.test.crt"
printf 'server z1.test\nserver z2.test\nserver z3.test\n' >"$WORK/ex.txt"
expect_fail 2 "z3\.test\.crt.*exist" "an existing output file" \
    $C issue --batch "$WORK/ex.txt" --out-dir "$WORK/o2"
is "... only the file that was there" "$(ls -A "$WORK/o2")" z3.test.crt
is "... untouched" "$(cat "$WORK/o2/z3.test.crt")" keep
is "... no row added" "$(snapshot)" "$before"
rm "$WORK/o2/z3.test.crt"
printf 'server y1.test\nserver y2.test\n\nserver y1.test\n' >"$WORK/dup.txt"
expect_fail 2 "dup\.txt:4: writes .*y1\.test\.crt, as line 1 does" \
    "two requests for one file name" \
    $C issue --batch "$WORK/dup.txt" --out-dir "$WORK/o2"
is "... no file written" "$(ls -A "$WORK/o2")" ""
expect_fail 2 "missing\.txt" "a missing batch file" \
    $C issue --batch "$WORK/missing.txt" --out-dir "$WORK/o2"
printf '# nothing\n\n' >"$WORK/empty.txt"
expect_fail 2 "empty\.txt: no request" "a batch without requests" \
    $C issue --batch "$WORK/empty.txt" --out-dir "$WORK/o2"
expect_fail 2 "--batch takes no names" "--batch with names" \
    $C issue --batch "$WORK/ex.txt" extra.test
# --threads: 1 to 256; 0 is no number of threads (leaving it out is one
# per core).
for t in 0 257 x -1; do
	expect_fail 2 "--threads '$t' is not a number of threads \(1-256" \
	    "--threads $t is refused" \
	    $C issue --batch "$WORK/ex.txt" --out-dir "$WORK/o2" --threads "$t"
done
is "... no row added" "$(snapshot)" "$before"
check "--threads 1 works" $C issue --batch "$WORK/ex.txt" \
    --out-dir "$WORK/t1" --threads 1
rm -r "$WORK/t1"
before=$(snapshot)

# A missing --out-dir is made (parents too), and removed again when the
# batch fails; "DIR/" gives no "DIR//" in messages.
expect_fail 2 "bad7\.txt:7: .*bad\.\.name\.test" \
    "a bad batch into a missing --out-dir" \
    $C issue --batch "$WORK/bad7.txt" --out-dir "$WORK/nonexistent/sub"
check_not "... leaves no folder behind" test -e "$WORK/nonexistent"
is "... no row added" "$(snapshot)" "$before"
echo keep >"$WORK/o2/z3.test.crt"
expect_fail 2 "ex\.txt:3: [^ ]*/o2/z3\.test\.crt: file exists" \
    "--out-dir DIR/: the message says DIR/FILE" \
    $C issue --batch "$WORK/ex.txt" --out-dir "$WORK/o2/"
check_not "... not DIR//FILE" grep -q "//" "$WORK/err"
rm "$WORK/o2/z3.test.crt"
check "a missing --out-dir DIR/ is made, with its parents" \
    sh -c "umask 022; $C issue --batch '$WORK/ex.txt' --out-dir '$WORK/made/sub/'"
is "... mode 0755" "$(stat -c %a "$WORK/made" "$WORK/made/sub" | tr '\n' ' ')" \
    "755 755 "
is "... the certificates are in it" "$(ls "$WORK/made/sub" | tr '\n' ' ')" \
    "z1.test.crt z1.test.key z2.test.crt z2.test.key z3.test.crt z3.test.key "
before=$(snapshot)

# The progress bar: not when stderr is a file or a pipe ...
printf 'server g%d.test\n' 1 2 3 4 5 6 7 8 9 10 >"$WORK/ten.txt"
mkdir "$WORK/o3" "$WORK/o4"
$C issue --batch "$WORK/ten.txt" --out-dir "$WORK/o3" 2>"$WORK/err3" >/dev/null
check_not "no carriage return on stderr when it is not a terminal" \
    grep -q "$(printf '\r')" "$WORK/err3"
is "stderr is empty" "$(wc -c <"$WORK/err3")" 0
# ... and on a terminal (script(1) gives the command a pty).
if command -v script >/dev/null 2>&1; then
	sed 's/^server g/server h/' "$WORK/ten.txt" >"$WORK/ten2.txt"
	script -qec "$C issue --batch '$WORK/ten2.txt' --out-dir '$WORK/o4'" \
	    /dev/null >"$WORK/tty.out" 2>&1 </dev/null
	check "on a terminal the bar is drawn with carriage returns" \
	    grep -q "$(printf '\r')\[#" "$WORK/tty.out"
	check "... and ends at 10/10" grep -q '10/10' "$WORK/tty.out"
	is "... and the certificates are there" \
	    "$(find "$WORK/o4" -name '*.crt' | wc -l)" 10
else
	ok "# SKIP script(1) not installed"
	ok "# SKIP script(1) not installed"
	ok "# SKIP script(1) not installed"
fi
# On a store without a CA, a bad batch file is refused before the dev CA is
# made: no CA, no certificate, no file.
E=$WORK/empty-ca.db
mkdir -p "$WORK/eo"
printf 'server ok.test\nserver bad..test\n' >"$WORK/bad1.txt"
expect_fail 2 "bad1\.txt:2: name 'bad\.\.test'" \
    "empty store, bad name on line 2: refused first" \
    $C --store "$E" issue --batch "$WORK/bad1.txt" --out-dir "$WORK/eo"
printf 'server ok.test\nlonely\n' >"$WORK/bad2.txt"
expect_fail 2 "bad2\.txt:2: expected a profile" \
    "empty store, a line without names: refused first" \
    $C --store "$E" issue --batch "$WORK/bad2.txt" --out-dir "$WORK/eo"
printf 'server ok.test\nserver there.test\n' >"$WORK/bad3.txt"
: >"$WORK/eo/there.test.crt"
expect_fail 2 "bad3\.txt:2: .*there\.test\.crt: file exists" \
    "empty store, an output file exists: refused first" \
    $C --store "$E" issue --batch "$WORK/bad3.txt" --out-dir "$WORK/eo"
is "no CA was made for the refused batches" \
    "$(umask 077; sqlite3 "$E" 'select count(*) from cas' 2>/dev/null ||
    echo 0)" 0
is "no file was written" "$(ls "$WORK/eo")" "there.test.crt"
check "with --force the same batch makes the CA and issues" \
    $C --store "$E" issue --batch "$WORK/bad3.txt" --out-dir "$WORK/eo" --force
is "one CA, two certificates" "$(sqlite3 "$E" \
    'select (select count(*) from cas) || "," || (select count(*) from certs)')" "1,2"
# A batch from a pipe on a store without a CA: read once, by the library.
mkdir -p "$WORK/po"
printf 'server p1.test\nserver p2.test\n' | $C --store "$WORK/pipe.db" \
    issue --batch /dev/stdin --out-dir "$WORK/po" >"$WORK/out" 2>"$WORK/err"
is "a batch from stdin on an empty store issues both" \
    "$(ls "$WORK/po" | tr '\n' ' ')" "p1.test.crt p1.test.key p2.test.crt p2.test.key "

# ---- issue 14, items 1 and 8: per-line options, chains, re-runs ----
mkdir -p "$WORK/opt" && cd "$WORK/opt" || exit 1
cat >opt.txt <<'EOF2'
server o1.test 10.0.0.1 --days 30 --key-type rsa-2048
client o2@corp.test --key-type ed25519
server o3.test --profile peer
EOF2
check "batch lines take --days, --key-type and --profile" $C issue --batch \
    opt.txt --out-dir out
openssl x509 -in out/o1.test.crt -noout -text >o1.txt
check "... --key-type rsa-2048" grep -q "Public-Key: (2048 bit)" o1.txt
check "... --days 30" python3 -c '
import ssl, sys
d = ssl._ssl._test_decode_cert("out/o1.test.crt")
span = ssl.cert_time_to_seconds(d["notAfter"]) - ssl.cert_time_to_seconds(d["notBefore"])
assert span == 30 * 86400, span
'
check "... the names before the options" grep -q "IP Address:10.0.0.1" o1.txt
openssl x509 -in out/o2@corp.test.crt -noout -text >o2.txt
check "... ed25519" grep -q "ED25519" o2.txt
openssl x509 -in out/o3.test.crt -noout -text >o3.txt
check "... --profile peer (server and client)" sh -c \
    'grep -q "TLS Web Server Authentication, TLS Web Client Authentication" o3.txt'
printf 'server x.test --colour red\n' >badopt.txt
expect_fail 2 "^certmint: badopt.txt:1: option '--colour' is not taken in a batch line" \
    "an unknown option in a line names file and line" \
    $C issue --batch badopt.txt --out-dir out
printf 'server x.test --days\n' >badopt.txt
expect_fail 2 "^certmint: badopt.txt:1: --days needs a value" \
    "an option without its value" $C issue --batch badopt.txt --out-dir out
printf 'server x.test --days 0\n' >badopt.txt
expect_fail 2 "^certmint: badopt.txt:1: --days '0': give 1 to 36500" \
    "--days 0 in a line" $C issue --batch badopt.txt --out-dir out
expect_fail 2 "^certmint issue: --batch takes no names, --cert, --key, --chain or --profile: a line is 'PROFILE NAME\.\.\. \[--days D\]" \
    "the usage error says what a line takes" \
    $C issue --batch opt.txt --profile peer
check_not "... and no longer 'the file says them'" grep -q "says them" \
    "$WORK/err"

# Run again, the batch is done: its lines are kept, nothing new.
n0=$(count certs)
check "a finished batch run again" $C issue --batch opt.txt --out-dir out
out_has "... says its lines were issued before" \
    "^Nothing to issue: all 3 lines were issued before, their files are in out\$"
is "... issues nothing new" "$(count certs)" "$n0"
printf 'server o4.test\n' >>opt.txt
check "the batch with a line more" $C issue --batch opt.txt --out-dir out
out_has "... issues that one, keeps the rest" \
    "^Issued 1 certificates into out \(3 lines were issued before: kept\)\$"

# A batch under an intermediate writes each chain beside its pair.
check "an intermediate" $C ca create mid --parent "certmint dev CA"
$C ca show --pem "certmint dev CA" >root.pem
printf 'server m1.test\nserver m2.test\n' >mid.txt
check "a batch under it" $C issue --batch mid.txt --ca mid --out-dir mo
check "... writes m1.test.chain.pem" test -s mo/m1.test.chain.pem
check "... the chain completes the path for openssl" openssl verify \
    -CAfile root.pem -untrusted mo/m1.test.chain.pem mo/m1.test.crt
is "... nothing else beside the pairs and chains" "$(ls -A mo | wc -l)" 6

# Killed after its commit (a SIGKILL is simulated by a failpoint in test
# builds): the re-run places the missing files from the store.
printf 'server k1.test\nserver k2.test\nserver k3.test\n' >k.txt
if CERTMINT_FAILPOINT=batch.between_files:3 $C issue --batch k.txt \
    --out-dir ko >/dev/null 2>&1 || [ $? -ne 137 ]; then
	ok "# SKIP not a --enable-failpoints build"
else
	check "a batch killed while placing its files, run again" \
	    $C issue --batch k.txt --out-dir ko
	is "... every pair is placed" "$(ls ko | tr '\n' ' ')" \
	    "k1.test.crt k1.test.key k2.test.crt k2.test.key k3.test.crt k3.test.key "
	is "... three certificates, not six" "$(sqlite3 "$S" \
	    "SELECT count(*) FROM certs WHERE cn LIKE 'k_.test'")" 3
fi
cd "$WORK" || exit 1
done_testing
