#!/bin/sh
# bench-crl.sh - a CRL of 100,000 revoked certificates: certmint crl
# against openssl ca -gencrl on the same serials, in the same run.  Prints
# wall time and peak RSS (/usr/bin/time -v) and the ratios.  Not a test.
#   CERTMINT=path/to/certmint N=100000 sh tests/bench/bench-crl.sh
set -e
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${CERTMINT:=$top_builddir/cmd/certmint}"
N=${N:-100000}
for t in openssl python3 /usr/bin/time; do
	command -v $t >/dev/null 2>&1 || { echo "bench-crl: $t missing"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-crl.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
export CERTMINT_STORE="$W/store.db" HOME="$W"
"$CERTMINT" init >/dev/null
"$CERTMINT" ca show --pem >ca.pem

# The same N serials, revoked with a mix of reasons, in the store and in
# an openssl ca index.
python3 - "$N" <<'PY'
import sqlite3, sys, random
n = int(sys.argv[1])
rng = random.Random(1)
reasons = ['unspecified', 'keyCompromise', 'CACompromise', 'affiliationChanged',
           'superseded', 'cessationOfOperation', 'certificateHold']
db = sqlite3.connect('store.db')
rows, idx = [], []
for i in range(n):
    serial = '%032x' % rng.getrandbits(127)
    serial = serial.lstrip('0') or '0'
    if len(serial) % 2:
        serial = '0' + serial
    if int(serial[0], 16) >= 8:
        pass  # the hex of the value; the DER adds a sign octet
    r = i % 7
    t = 1700000000 + i
    rows.append((serial, 'f%d' % i, t, r))
    rt = __import__('time').strftime('%y%m%d%H%M%SZ', __import__('time').gmtime(t))
    idx.append('R\t491231235959Z\t%s,%s\t%s\tunknown\t/CN=c%d\n' % (rt, reasons[r], serial.upper(), i))
db.executemany("INSERT INTO certs (ca_id, serial, subject, cn, profile, key_type, "
               "not_before, not_after, der, fingerprint, status, revoked_at, "
               "revocation_reason, created) VALUES (1, ?, 'CN=x', 'x', 'server', "
               "'ec-p256', 0, 4102444800, x'00', ?, 'revoked', ?, ?, 0)", rows)
db.commit()
open('index.txt', 'w').writelines(idx)
PY

# openssl ca with a P-256 CA of its own, like certmint's default.
mkdir -p newcerts
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ossl-ca.key -out ossl-ca.pem -subj /CN=bench -days 30 2>/dev/null
: >index.txt.attr
echo 1000 >crlnumber
cat >ca.cnf <<CNF
[ca]
default_ca = bench
[bench]
dir = $W
database = $W/index.txt
new_certs_dir = $W/newcerts
certificate = $W/ossl-ca.pem
private_key = $W/ossl-ca.key
crlnumber = $W/crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
CNF

measure() {
	# measure NAME CMD...: wall seconds and peak RSS in kB
	_n=$1; shift
	/usr/bin/time -v "$@" >/dev/null 2>"$_n.time" || { cat "$_n.time"; exit 1; }
}
tv() { sed -n "s/^.*$2: //p" "$1.time"; }
secs() {
	# h:mm:ss or m:ss.ss -> seconds
	echo "$1" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3;
		else print $1*60 + $2 }'
}

# The binary itself, not libtool's wrapper script, is measured.
BIN=$CERTMINT
if [ -x "$(dirname "$CERTMINT")/.libs/certmint" ]; then
	BIN="$(dirname "$CERTMINT")/.libs/certmint"
	export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
measure cm "$BIN" crl --der --out cm.crl
measure os openssl ca -config ca.cnf -gencrl -out os.crl
openssl crl -inform DER -in cm.crl -CAfile ca.pem -noout 2>&1 | grep -q "verify OK" ||
	{ echo "bench-crl: certmint's CRL does not verify"; exit 1; }
cm_n=$(openssl crl -inform DER -in cm.crl -noout -text | grep -c "Serial Number")
os_n=$(openssl crl -in os.crl -noout -text | grep -c "Serial Number")
cm_t=$(secs "$(tv cm 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
os_t=$(secs "$(tv os 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
cm_m=$(tv cm 'Maximum resident set size (kbytes)')
os_m=$(tv os 'Maximum resident set size (kbytes)')
printf 'CRL with %d revoked entries (certmint %d, openssl %d listed)\n' \
	"$N" "$cm_n" "$os_n"
printf '  certmint crl        %6.3f s  %7d kB peak RSS  %d bytes\n' "$cm_t" \
	"$cm_m" "$(wc -c <cm.crl)"
printf '  openssl ca -gencrl  %6.3f s  %7d kB peak RSS  %d bytes (PEM)\n' \
	"$os_t" "$os_m" "$(wc -c <os.crl)"
awk -v a="$cm_t" -v b="$os_t" -v c="$cm_m" -v d="$os_m" 'BEGIN {
	printf "  ratio time %.3f (target <= 0.25), memory %.3f (target <= 0.5)\n",
	    (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
