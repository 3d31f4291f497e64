#!/bin/sh
# failpoints.sh - crash safety swept, not argued (issue 14, items 1 and 9).
#
# For issue, issue --batch, renew, sign, revoke, crl --out and import:
# list the failpoints the command passes (CERTMINT_FAILPOINT_LOG), kill it
# at each (and a batch's per-line points at the first, a middle and the
# last hit), then check the invariants:
#   - every placed certificate file is a certificate of the inventory;
#   - every inventory row's files are placed, or placeable (export works);
#   - the store passes PRAGMA integrity_check;
#   - a re-run completes, after which no temp file or journal is left.
# And in fail mode (the call fails instead of dying) before the commit:
# exit non-zero, one line, no row, no file.
# Needs a build made with --enable-failpoints; skipped otherwise.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need sqlite3
need python3
need openssl
C=$CERTMINT
S=$CERTMINT_STORE
cd "$WORK" || exit 1

$C init >/dev/null 2>&1 || { echo "Bail out! init failed"; exit 1; }
mkdir probe
(cd probe && CERTMINT_FAILPOINT_LOG="$WORK/probe.log" $C issue server \
    probe.test >/dev/null 2>&1)
[ -s probe.log ] || skip_all "not a --enable-failpoints build"

# inv.py DIR [strict]: the invariants on DIR; strict (after a re-run) also
# wants no temp file, no journal, and a key beside every certificate.
cat >inv.py <<'PY'
import base64, hashlib, os, re, sqlite3, sys
store, d, strict = sys.argv[1], sys.argv[2], len(sys.argv) > 3
bad = []
db = sqlite3.connect(store)
fps = {r[0] for r in db.execute("SELECT fingerprint FROM certs")}
names = os.listdir(d)
for n in names:
    p = os.path.join(d, n)
    if n.endswith(".crt") and not n.endswith(".chain.crt"):
        m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END",
                      open(p).read(), re.S)
        fp = m and hashlib.sha256(base64.b64decode(m.group(1))).hexdigest()
        if fp not in fps:
            bad.append("%s: placed, not in the inventory" % n)
        if strict and n[:-4] + ".key" not in names:
            bad.append("%s: no key beside it" % n)
    if n.endswith(".key") and n[:-4] + ".crt" not in names:
        # A key alone is a crash's state only while its journal waits.
        if strict or not any(x.startswith(".certmint-journal-")
                             for x in names):
            bad.append("%s: a key without its certificate" % n)
    if strict and n.startswith(".certmint-"):
        bad.append("%s: left behind" % n)
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
if ok != "ok":
    bad.append("integrity_check: " + ok)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
# The interpreter itself, not a version manager's shim (0.5 s a call).
PY=$(python3 -c 'import sys; print(sys.executable)')
inv() { "$PY" -S inv.py "$S" "$@"; }

# placeable CN-PATTERN: every row has its certificate and its key in the
# store, and export writes the first again (one: the machine is shared).
placeable() {
	[ "$(sqlite3 "$S" "SELECT count(*) FROM certs WHERE cn LIKE '$1' \
	    AND key_id IS NULL")" = 0 ] || return 1
	_s=$(sqlite3 "$S" "SELECT serial FROM certs WHERE cn LIKE '$1' \
	    LIMIT 1")
	[ -z "$_s" ] || $C export "$_s" --format key --out "$WORK/x.pem" \
	    --force >/dev/null 2>&1
}
rows() { sqlite3 "$S" "SELECT count(*) FROM certs WHERE cn LIKE '$1'"; }

# points CMD...: the failpoints CMD passes, once each, in order.
points() {
	rm -f "$WORK/fp.log"
	CERTMINT_FAILPOINT_LOG="$WORK/fp.log" "$@" >/dev/null 2>&1
	awk '!seen[$0]++' "$WORK/fp.log"
}

# ---- issue ----
mkdir list-issue
pts=$(cd list-issue && points $C issue server list.test)
is "issue passes its failpoints" "$(echo $pts)" \
    "issue.after_sign issue.after_insert issue.after_commit issue.between_files issue.after_files"
i=0
for p in $pts; do
	i=$((i + 1))
	mkdir "i$i"
	(cd "i$i" && CERTMINT_FAILPOINT=$p $C issue server "k$i.test" \
	    >/dev/null 2>&1)
	is "issue killed at $p" "$?" 137
	check "... invariants hold" inv "i$i"
	check "... its row, if any, is placeable" placeable \
	    "%k$i.test%"
	check "... a re-run completes" sh -c "cd i$i && $C issue server \
	    k$i.test"
	check "... then all is placed, nothing left over" inv "i$i" strict
	is "... one certificate for the name" "$(rows "%k$i.test%")" 1
done

# fail mode: before the commit nothing at all; after it, the row and one
# line that says the files come with a re-run.
i=0
for p in issue.after_sign issue.after_insert; do
	i=$((i + 1))
	mkdir "f$i"
	expect_fail 2 "^certmint: failpoint $p\$" "issue fails at $p" \
	    sh -c "cd f$i && CERTMINT_FAILPOINT=$p:fail $C issue server \
	    f$i.test"
	is "... no row" "$(rows "f$i.test")" 0
	is "... no file" "$(ls -A "f$i" | wc -l)" 0
done
mkdir f-commit
expect_fail 2 "failpoint issue.after_commit \(certificate [0-9a-f]+ is recorded: the same command again places its files" \
    "issue fails after the commit: the row is said to be recorded" \
    sh -c "cd f-commit && CERTMINT_FAILPOINT=issue.after_commit:fail \
    $C issue server fc.test"
check "... the re-run places its files" sh -c "cd f-commit && $C issue \
    server fc.test"
err_has "... and says so" "^certmint: note: fc.test.crt holds certificate [0-9a-f]+, issued by an interrupted run"
check "... and leaves nothing over" inv f-commit strict
is "... one certificate" "$(rows "%fc.test%")" 1

# ---- issue --batch: 20 lines, per-line points at hits 1, 20 and 39 ----
batch_file() {
	for _k in $(seq 1 20); do echo "server $1-$_k.test"; done
}
batch_file list >list.txt
mkdir list-batch
pts=$(points $C issue --batch list.txt --out-dir list-batch)
is "batch passes its failpoints" "$(echo $pts)" \
    "batch.after_sign batch.after_insert batch.after_commit batch.between_files batch.after_files"
is "... between_files once a file, less one" \
    "$(grep -c between_files fp.log)" 39
i=0
for p in batch.after_sign batch.after_insert batch.after_commit \
    batch.between_files:1 batch.between_files:20 batch.between_files:39 \
    batch.after_files; do
	i=$((i + 1))
	batch_file "b$i" >"b$i.txt"
	mkdir "b$i"
	CERTMINT_FAILPOINT=$p $C issue --batch "b$i.txt" --out-dir "b$i" \
	    >/dev/null 2>&1
	is "batch killed at $p" "$?" 137
	n=$(rows "%b$i-%")
	case $n in 0|20) ok "... all or no rows ($n)" ;;
	*) not_ok "... all or no rows ($n)" ;; esac
	check "... invariants hold" inv "b$i"
	check "... its rows are placeable" placeable "%b$i-%"
	check "... a re-run completes" $C issue --batch "b$i.txt" \
	    --out-dir "b$i"
	check "... then all is placed, nothing left over" inv "b$i" strict
	is "... 40 files" "$(ls "b$i" | wc -l)" 40
	is "... one certificate a line" "$(rows "%b$i-%")" 20
done
batch_file fb >fb.txt
mkdir fb
expect_fail 2 "^certmint: failpoint batch.after_insert\$" \
    "batch fails before the commit" env \
    CERTMINT_FAILPOINT=batch.after_insert:fail $C issue --batch fb.txt \
    --out-dir fb
is "... no row" "$(rows "%fb-%")" 0
is "... no file" "$(ls -A fb | wc -l)" 0

# ---- renew ----
mkdir list-renew
(cd list-renew && $C issue server lr.test >/dev/null 2>&1)
pts=$(cd list-renew && points $C renew lr.test --force)
is "renew passes its failpoints" "$(echo $pts)" \
    "renew.after_sign renew.after_insert renew.after_commit renew.between_files renew.after_files"
i=0
for p in $pts; do
	i=$((i + 1))
	mkdir "r$i"
	(cd "r$i" && $C issue server "r$i.test" >/dev/null 2>&1 &&
	    CERTMINT_FAILPOINT=$p $C renew "r$i.test" --force \
	    >/dev/null 2>&1)
	is "renew killed at $p" "$?" 137
	check "... invariants hold" inv "r$i"
	check "... its rows are placeable" placeable "%r$i.test%"
	check "... a re-run completes" sh -c "cd r$i && $C renew r$i.test \
	    --force"
	check "... then all is placed, nothing left over" inv "r$i" strict
	is "... one valid certificate" "$(sqlite3 "$S" "SELECT count(*) \
	    FROM certs WHERE cn LIKE '%r$i.test%' AND status = 'valid'")" 1
done

# ---- sign (the same path as issue: sign, commit, place) ----
mkdir csr
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout csr/req.key -out csr/req.csr -subj /CN=sg.test >/dev/null 2>&1
mkdir list-sign
pts=$(cd list-sign && points $C sign ../csr/req.csr --profile server \
    --cert sg.crt)
is "sign passes its failpoints" "$(echo $pts)" \
    "sign.after_sign sign.after_insert sign.after_commit sign.after_files"
i=0
for p in $pts; do
	i=$((i + 1))
	mkdir "s$i"
	(cd "s$i" && CERTMINT_FAILPOINT=$p $C sign ../csr/req.csr --profile \
	    server --cert sg.crt >/dev/null 2>&1)
	is "sign killed at $p" "$?" 137
	check "... invariants hold" inv "s$i"
	check "... a re-run completes" sh -c "cd s$i && $C sign ../csr/req.csr \
	    --profile server --cert sg.crt"
	check "... the certificate is placed, nothing left over" sh -c \
	    "test -s s$i/sg.crt && test -z \"\$(ls -A s$i | grep certmint-)\""
	check "... and in the inventory" inv "s$i"
done

# ---- revoke ----
$C issue server lv.test --cert lv.crt --key lv.key >/dev/null 2>&1
pts=$(points $C revoke lv.test)
is "revoke passes its failpoints" "$(echo $pts)" \
    "revoke.after_update revoke.after_commit"
i=0
for p in $pts; do
	i=$((i + 1))
	$C issue server "v$i.test" --cert "v$i.crt" --key "v$i.key" \
	    >/dev/null 2>&1
	CERTMINT_FAILPOINT=$p $C revoke "v$i.test" >/dev/null 2>&1
	is "revoke killed at $p" "$?" 137
	st=$(sqlite3 "$S" "SELECT status FROM certs WHERE cn = 'v$i.test'")
	case $p in
	*after_commit) is "... revoked" "$st" revoked ;;
	*) is "... still valid" "$st" valid ;;
	esac
	check "... integrity" inv .
	if [ "$st" = valid ]; then
		check "... a re-run revokes it" $C revoke "v$i.test"
	else
		expect_fail 2 "is revoked already" "... a re-run says it is done" \
		    $C revoke "v$i.test"
	fi
done

# ---- crl --out: a cRLNumber in any file is recorded, never reused ----
crlnum() { openssl crl -in "$1" -inform DER -noout -crlnumber 2>/dev/null |
    sed 's/.*=//'; }
mkdir crl
pts=$(points $C crl --der --out crl/list.crl)
is "crl passes its failpoints" "$(echo $pts)" \
    "crl.after_reserve crl.after_commit crl.after_write"
for p in $pts; do
	CERTMINT_FAILPOINT=$p $C crl --der --out crl/ca.crl >/dev/null 2>&1
	is "crl killed at $p" "$?" 137
	max=$(sqlite3 "$S" "SELECT max(number) FROM crls")
	seen=0
	for f in crl/ca.crl crl/.certmint-tmp-*; do
		[ -f "$f" ] || continue
		n=$(($(crlnum "$f")))
		[ "$n" -gt "$seen" ] && seen=$n
	done
	check "... every number in a file is recorded ($seen <= $max)" \
	    test "$seen" -le "$max"
	check "... a re-run writes the CRL" $C crl --der --out crl/ca.crl
	n=$(($(crlnum crl/ca.crl)))
	check "... with a number never in a file before ($n > $seen)" \
	    test "$n" -gt "$seen"
	is "... no temp file left" "$(ls -A crl | grep -c certmint-)" 0
	check "... integrity" inv .
done

# ---- import ----
mkdir imp
newca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "imp/$1.key" -out "imp/$1.crt" -subj "/CN=$1" -days 30 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
}
newca ca
pts=$(points $C import --cert imp/ca.crt --key imp/ca.key --name imp-list)
is "import passes its failpoints" "$(echo $pts)" \
    "import.after_insert import.after_commit"
for p in $pts; do
	newca "$p"
	CERTMINT_FAILPOINT=$p $C import --cert "imp/$p.crt" --key "imp/$p.key" \
	    --name "imp-$p" >/dev/null 2>&1
	is "import killed at $p" "$?" 137
	n=$(sqlite3 "$S" "SELECT count(*) FROM cas WHERE name = 'imp-$p'")
	check "... integrity" inv .
	if [ "$n" = 0 ]; then
		check "... a re-run imports it" $C import --cert \
		    "imp/$p.crt" --key "imp/$p.key" --name "imp-$p"
	else
		expect_fail 2 "CA 'imp-$p' already exists" \
		    "... a re-run says it is there" $C import --cert \
		    "imp/$p.crt" --key "imp/$p.key" --name "imp-$p"
	fi
	is "... one CA of that name" "$(sqlite3 "$S" "SELECT count(*) FROM \
	    cas WHERE name = 'imp-$p'")" 1
done

done_testing
