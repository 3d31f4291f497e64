#!/bin/sh
# crash-batch.sh [ROUNDS [LINES]] - issue 14's acceptance for crash-safe
# batches, on demand (not in make check): ROUNDS (default 100) times, a
# batch of LINES (default 2000) is killed by SIGKILL at a random moment;
# then every placed certificate file must be in the inventory, every row
# placeable (its key kept), the store must pass integrity_check, and a
# re-run must complete the batch: LINES rows, a key beside every
# certificate, no temp file or journal left.
#
#   CERTMINT=cmd/certmint tests/bench/crash-batch.sh 100 2000
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
C=${CERTMINT:-$top/cmd/certmint}
rounds=${1:-100}
lines=${2:-2000}
for t in sqlite3 python3; do
	command -v $t >/dev/null 2>&1 || { echo "$t not installed"; exit 77; }
done
PY=$(python3 -c 'import sys; print(sys.executable)')
W=$(mktemp -d "${TMPDIR:-/tmp}/crash-batch.XXXXXX")
trap 'rm -rf "$W"' EXIT
export CERTMINT_STORE="$W/store.db"
unset CERTMINT_FAILPOINT CERTMINT_PASSPHRASE
cd "$W" || exit 1
$C init >/dev/null 2>&1 || { echo "init failed"; exit 1; }

cat >inv.py <<'PY'
import base64, hashlib, os, re, sqlite3, sys
store, d, prefix, lines, strict = (sys.argv[1], sys.argv[2], sys.argv[3],
                                   int(sys.argv[4]), len(sys.argv) > 5)
db = sqlite3.connect(store)
fps = {r[0] for r in db.execute("SELECT fingerprint FROM certs")}
rows = db.execute("SELECT count(*), total(key_id IS NULL) FROM certs "
                  "WHERE cn LIKE ?", (prefix + "-%",)).fetchone()
bad, names = [], os.listdir(d)
for n in names:
    p = os.path.join(d, n)
    if n.endswith(".crt"):
        m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END",
                      open(p).read(), re.S)
        fp = m and hashlib.sha256(base64.b64decode(m.group(1))).hexdigest()
        if fp not in fps:
            bad.append(n + ": placed, not in the inventory")
        if strict and n[:-4] + ".key" not in names:
            bad.append(n + ": no key beside it")
    if n.endswith(".key") and n[:-4] + ".crt" not in names and (
            strict or not any(x.startswith(".certmint-journal-")
                              for x in names)):
        bad.append(n + ": a key without its certificate")
    if strict and n.startswith(".certmint-"):
        bad.append(n + ": left behind")
if rows[0] not in (0, lines):
    bad.append("%d rows of %d" % (rows[0], lines))
if rows[1]:
    bad.append("%d rows without their key" % rows[1])
if strict and (rows[0] != lines or len(names) != 2 * lines):
    bad.append("after the re-run: %d rows, %d files" % (rows[0], len(names)))
if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
    bad.append("integrity_check failed")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# How long a whole batch takes: kills fall anywhere in it.
seq 1 "$lines" | sed 's/.*/server t-&.test/' >t.txt
mkdir t
s0=$(date +%s%N)
$C issue --batch t.txt --out-dir t >/dev/null 2>&1
ms=$(( ($(date +%s%N) - s0) / 1000000 + 1 ))
echo "a batch of $lines takes $ms ms"

fail=0 r=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	seq 1 "$lines" | sed "s/.*/server r$r-&.test/" >"r$r.txt"
	mkdir "r$r"
	at=$("$PY" -c "import random; print(random.randint(1, $ms))")
	$C issue --batch "r$r.txt" --out-dir "r$r" >/dev/null 2>&1 &
	pid=$!
	"$PY" -c "import time; time.sleep($at / 1000)"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	n=$(sqlite3 "$CERTMINT_STORE" \
	    "SELECT count(*) FROM certs WHERE cn LIKE 'r$r-%'")
	placed=$(ls "r$r" | grep -c '\.crt$')
	if ! out=$("$PY" -S inv.py "$CERTMINT_STORE" "r$r" "r$r" "$lines"); then
		echo "round $r (kill at $at ms): $out"; fail=$((fail + 1))
	fi
	if ! $C issue --batch "r$r.txt" --out-dir "r$r" >rerun.txt 2>&1; then
		echo "round $r: the re-run failed: $(cat rerun.txt)"
		fail=$((fail + 1))
	elif ! out=$("$PY" -S inv.py "$CERTMINT_STORE" "r$r" "r$r" "$lines" \
	    strict); then
		echo "round $r, after the re-run: $out"; fail=$((fail + 1))
	fi
	echo "round $r: killed at $at ms: $n rows, $placed certificates placed"
	rm -rf "r$r" "r$r.txt"
done
echo "$rounds rounds, $fail failures"
[ $fail -eq 0 ]
