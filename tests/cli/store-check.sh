#!/bin/sh
# store-check.sh - certmint store check: a store that holds together says
# so (exit 0) with its counts; each kind of damage done to it behind
# certmint's back (a certificate swapped, a key swapped, a CA certificate
# replaced) is named in one line and exits 1; keys behind a passphrase are
# counted as not checked until it is given.
. "$top_srcdir/tests/cli/lib.sh"
need sqlite3
need python3
C="$CERTMINT"
cd "$WORK" || exit 1
S="$CERTMINT_STORE"

$C init >/dev/null 2>&1
$C issue server a.test >/dev/null 2>&1
$C issue client alice@example.test >/dev/null 2>&1
$C ca create Int --parent "certmint dev CA" >/dev/null 2>&1 ||
	$C ca create Int >/dev/null 2>&1
$C issue server b.test --ca Int >/dev/null 2>&1
$C revoke a.test >/dev/null 2>&1
$C crl --ca "certmint dev CA" >/dev/null 2>&1

$C store check >ok.out 2>&1
is "a store that holds together: exit 0" "$?" 0
check "... says so" grep -qx "the store holds together" ok.out
is "store check --json: the counts" "$($C store check --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["integrity_ok"], d["cas"], d["certificates"], d["revoked"], d["crls"],
      d["keys_ok"], d["keys_unchecked"], d["problems"])')" \
    "True 2 4 1 1 5 0 []"

# Damage is done to copies (sqlite3 .backup; 0600 as a store must be; on
# PostgreSQL a database made from the store's as a template).
T=t.db
damaged() {
	if on_pg; then
		T=$(printf '%s' "$S" | sed 's|:///certmint?|:///t?|')
		psql -X -q -d "$S" -c "DROP DATABASE IF EXISTS t" \
		    -c "CREATE DATABASE t TEMPLATE certmint" &&
		    psql -X -q -d "$T" -c "$1"
		return
	fi
	rm -f t.db t.db-wal t.db-shm
	sqlite3 "$S" ".backup t.db" && chmod 600 t.db && sqlite3 t.db "$1"
}
# A certificate's DER swapped for another's (behind certmint's back).
damaged "UPDATE certs SET der = (SELECT der FROM certs WHERE cn = 'alice@example.test') WHERE cn = 'b.test'"
$C --store "$T" store check >swap.out 2>&1
is "a certificate swapped: exit 1" "$?" 1
check "... the problem names the certificate and says what is wrong" \
    grep -q "^problem: certificate [0-9a-f]*: it carries serial" swap.out
check "... and that it is not signed by its CA" \
    grep -q "it is not signed by CA 'Int'" swap.out

# A kept key swapped for another certificate's.
damaged "UPDATE certs SET key_id = (SELECT key_id FROM certs WHERE cn = 'alice@example.test') WHERE cn = 'b.test'"
$C --store "$T" store check >key.out 2>&1
is "a kept key swapped: exit 1" "$?" 1
check "... named: the kept key is not the certificate's" \
    grep -q "kept key is not the key of the certificate" key.out

# The intermediate's certificate replaced by the root's.
damaged "UPDATE cas SET cert_der = (SELECT cert_der FROM cas WHERE name = 'certmint dev CA') WHERE name = 'Int'"
$C --store "$T" store check >ca.out 2>&1
is "a CA certificate replaced: exit 1" "$?" 1
check "... named" grep -q "^problem: CA 'Int'" ca.out
is "the store itself was left alone: exit 0" "$($C store check >/dev/null 2>&1; echo $?)" 0

# Behind a passphrase: not checked without it, checked with it.
printf 'correct horse battery\n' >pass.txt
$C passwd --new-passphrase-file pass.txt >/dev/null 2>&1
is "passwd set: exit 0" "$?" 0
$C store check --json </dev/null >np.json
is "without the passphrase (no terminal): exit 0" "$?" 0
is "... the 5 keys counted as not checked, none as good" "$(python3 -c '
import json, sys; d = json.load(open("np.json")); print(d["keys_ok"], d["keys_unchecked"])')" "0 5"
is "with --passphrase-file: all 5 keys checked" \
    "$($C store check --json --passphrase-file pass.txt | python3 -c '
import json, sys; d = json.load(sys.stdin); print(d["keys_ok"], d["keys_unchecked"])')" "5 0"
printf 'wrong\n' >wrong.txt
$C store check --passphrase-file wrong.txt >wrong.out 2>wrong.err
is "a wrong passphrase is no pass: exit 1" "$?" 1
check "... said in one line naming the file" grep -q "kept keys not opened with the passphrase of wrong.txt" wrong.err

$C store frobnicate >/dev/null 2>err.txt
is "store frobnicate: exit 2" "$?" 2
done_testing
