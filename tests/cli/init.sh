#!/bin/sh
# init.sh - certmint init, ca list, ca show; the passphrase never in argv and
# the CA key encrypted at rest; where the store goes and how it is made.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need sqlite3
need python3
C=$CERTMINT
cd "$WORK" || exit 1

# Every key type, each in its own store (rsa-4096 is left out: seconds of
# prime search for nothing the smaller RSA sizes do not already cover).
for t in ec-p256 ec-p384 ec-p521 ed25519 ed448 rsa-2048 rsa-3072; do
	check "init --key-type $t" $C --store "$WORK/kt-$t.db" init \
	    --key-type "$t" --name "CA $t"
	$C --store "$WORK/kt-$t.db" ca show --pem >"$WORK/kt-$t.pem"
	case $t in
	ec-p256) want='prime256v1|P-256' ;; ec-p384) want='secp384r1|P-384' ;;
	ec-p521) want='secp521r1|P-521' ;; ed25519) want='ED25519' ;;
	ed448) want='ED448' ;; rsa-2048) want='\(2048 bit\)' ;;
	rsa-3072) want='\(3072 bit\)' ;;
	esac
	check "$t: openssl sees the key type" sh -c "openssl x509 -noout \
	    -text -in '$WORK/kt-$t.pem' | grep -Eq '$want'"
	check "$t: self-signed CA verifies with openssl -x509_strict" \
	    openssl verify -x509_strict -CAfile "$WORK/kt-$t.pem" \
	    "$WORK/kt-$t.pem"
done
expect_fail 2 "key type 'rsa-1024'|rsa-1024" "init --key-type rsa-1024" \
    $C --store "$WORK/bad.db" init --key-type rsa-1024
check_not "a refused init leaves no store" test -e "$WORK/bad.db"
# A folder that was there stays, even when the path to it has a "..".
mkdir "$WORK/kept"
expect_fail 2 "profile 'nosuch' not found" "a failed issue on a new store" \
    $C --store "$WORK/made/../kept/s.db" issue server q.test --profile nosuch
check_not "... leaves no store" test -e "$WORK/kept/s.db"
check "... and the folder that was there" test -d "$WORK/kept"

# --name, --days, --permit: critical name constraints seen by openssl.
S="$WORK/nc.db"
check "init --name --days --permit" $C --store "$S" init --name "Team CA" \
    --days 30 --permit .test --permit 127.0.0.0/8 --permit @example.test
$C --store "$S" ca show --pem >"$WORK/nc.pem"
openssl x509 -noout -text -in "$WORK/nc.pem" >"$WORK/nc.txt"
check "subject CN is the --name" grep -q 'CN *= *Team CA' "$WORK/nc.txt"
check "name constraints are critical" \
    grep -q 'X509v3 Name Constraints: critical' "$WORK/nc.txt"
check "permitted DNS .test" grep -Eq 'DNS:\.?test' "$WORK/nc.txt"
check "permitted IP 127.0.0.0/8" \
    grep -Eq 'IP:127\.0\.0\.0/255\.0\.0\.0' "$WORK/nc.txt"
check "permitted email domain example.test" \
    grep -Eq 'email:@?\.?example\.test' "$WORK/nc.txt"
check "basicConstraints CA:TRUE, critical" sh -c "grep -A1 \
    'Basic Constraints: critical' '$WORK/nc.txt' | grep -q 'CA:TRUE'"
nb=$(openssl x509 -noout -startdate -in "$WORK/nc.pem" | cut -d= -f2)
na=$(openssl x509 -noout -enddate -in "$WORK/nc.pem" | cut -d= -f2)
days=$(( ($(date -d "$na" +%s) - $(date -d "$nb" +%s)) / 86400 ))
is "--days 30 gives 30 days of validity" "$days" 30

# ca list / ca show, default and named; --pem; --json.
check "init a second CA into the same store" $C --store "$S" init \
    --name "Other CA"
check "ca list" $C --store "$S" ca list
out_has "ca list names Team CA" 'Team CA'
check "ca list names Other CA" grep -q 'Other CA' "$WORK/out.prev"
expect_fail 2 "store has 2 CAs.*'Other CA'.*'Team CA'|2 CAs" \
    "ca show without NAME is refused with two CAs" $C --store "$S" ca show
expect_fail 2 "store has 2 CAs" "issue without --ca is refused with two CAs" \
    $C --store "$S" issue server two.test --cert "$WORK/two.crt" \
    --key "$WORK/two.key"
check_not "... and writes nothing" test -e "$WORK/two.crt"
check "ca show 'Team CA'" $C --store "$S" ca show "Team CA"
out_has "ca show prints the permitted names" '127\.0\.0\.0/8' 
check "ca list --json parses" sh -c "$C --store '$S' ca list --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin);
assert sorted(c[\"name\"] for c in d[\"cas\"]) == [\"Other CA\", \"Team CA\"]'"
expect_fail 2 "nope" "ca show of an unknown CA" $C --store "$S" ca show nope

expect_fail 3 "store .* does not exist" "ca show never creates a store" $C ca show
check_not "... none was created" test -e "$CERTMINT_STORE"
S1="$WORK/one.db"
export CERTMINT_STORE="$S1"
check "init in CERTMINT_STORE" $C init
check "ca show, NAME omitted" $C ca show
out_has "ca show names the default CA" 'certmint dev CA' 
$C ca show --pem >"$WORK/one.pem"
check "ca show --pem parses with openssl" openssl x509 -noout \
    -in "$WORK/one.pem"
check "ca show --pem is one certificate" \
    test "$(grep -c 'BEGIN CERTIFICATE' "$WORK/one.pem")" = 1
$C ca show --json >"$WORK/one.json"
check "ca show --json is JSON" python3 -m json.tool "$WORK/one.json"
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$WORK/one.pem" |
    cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
check "ca show --json: fingerprint matches openssl's, not encrypted" \
    python3 -c "import json,sys; d=json.load(open('$WORK/one.json'));
assert d['fingerprint_sha256'] == '$fp', d; assert d['encrypted'] is False;
assert d['name'] == 'certmint dev CA'"
check "ca show --json: no CRL or OCSP URL yet (null)" \
    python3 -c "import json,sys; d=json.load(open('$WORK/one.json'));
assert d['crl_url'] is None and d['ocsp_url'] is None, d"
check "ca show" $C ca show
check_not "... prints no URL line before 'ca set'" grep -q "URL:" "$WORK/out"
check "ca set --crl-url --ocsp-url" $C ca set \
    --crl-url http://crl.test/dev.crl --ocsp-url http://127.0.0.1:8080/
$C ca show >"$WORK/show.out"
check "ca show prints the CRL URL" \
    grep -Eq "^crl url +http://crl\.test/dev\.crl$" "$WORK/show.out"
check "ca show prints the OCSP URL" \
    grep -Eq "^ocsp url +http://127\.0\.0\.1:8080/$" "$WORK/show.out"
$C ca show --json >"$WORK/urls.json"
check "ca show --json: crl_url and ocsp_url" \
    python3 -c "import json,sys; d=json.load(open('$WORK/urls.json'));
assert d['crl_url'] == 'http://crl.test/dev.crl', d
assert d['ocsp_url'] == 'http://127.0.0.1:8080/', d"
is "CERTMINT_STORE was used" "$(sqlite3 "$S1" 'select count(*) from cas')" 1
unset CERTMINT_STORE

# The passphrase: never argv; --passphrase-file and CERTMINT_PASSPHRASE.
expect_fail 2 "--passphrase.*never" "init --passphrase X is a usage error" \
    $C --store "$WORK/argv.db" init --passphrase hunter2
check_not "... and leaves no store" test -e "$WORK/argv.db"
check_not "... and does not echo the secret" grep -q hunter2 "$WORK/err"

printf 'correct horse\n' >"$WORK/pass"
PF="$WORK/pf.db"
check "init --passphrase-file" $C --store "$PF" init --passphrase-file \
    "$WORK/pass"
out_has "init says the key is encrypted" encrypted
PE="$WORK/pe.db"
check "init with CERTMINT_PASSPHRASE" env CERTMINT_PASSPHRASE=s3cret \
    $C --store "$PE" init --key-type rsa-2048
for db in "$PF" "$PE"; do
	n=$(basename "$db")
	is "$n: the CA key row is encrypted" \
	    "$(sqlite3 "$db" 'select k.encrypted from keys k join cas c on
	    c.key_id = k.id')" 1
	# writefile() is the sqlite3 shell's: the blob, byte for byte.
	sqlite3 "$db" "select writefile('$WORK/$n.p8', k.pkcs8) from keys k
	    join cas c on c.key_id = k.id" >/dev/null
	check "$n: the blob is PBES2 (openssl asn1parse)" sh -c \
	    "openssl asn1parse -inform DER -in '$WORK/$n.p8' | grep -q PBES2"
	check "$n: ... with AES-256" sh -c \
	    "openssl asn1parse -inform DER -in '$WORK/$n.p8' |
	    grep -qi aes-256"
	check_not "$n: the blob is not a plain PKCS#8" openssl pkcs8 \
	    -inform DER -nocrypt -in "$WORK/$n.p8" -out /dev/null
done
check "the key opens with the right passphrase (openssl pkcs8)" \
    openssl pkcs8 -inform DER -in "$WORK/pf.db.p8" -passin \
    file:"$WORK/pass" -out /dev/null
check "ca show --json says encrypted" sh -c "$C --store '$PF' ca show \
    --json | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"encrypted\"]'"
check "issue with the encrypted CA and --passphrase-file" \
    $C --store "$PF" issue server --passphrase-file "$WORK/pass" \
    --cert "$WORK/pf.crt" --key "$WORK/pf.key" pf.test
check "issue with the encrypted CA and CERTMINT_PASSPHRASE" \
    env CERTMINT_PASSPHRASE=s3cret $C --store "$PE" issue client pe.test \
    --cert "$WORK/pe.crt" --key "$WORK/pe.key"
# No key at all in the clear in an encrypted CA's store (leaf keys kept
# in the store included): every blob in .dump is checked.
for db in "$PF" "$PE"; do
	n=$(basename "$db")
	is "$n: no row of keys says unencrypted" \
	    "$(sqlite3 "$db" 'select count(*) from keys where encrypted = 0')" 0
	plain=0
	for id in $(sqlite3 "$db" 'select id from keys where pkcs8 is not null'); do
		sqlite3 "$db" "select writefile('$WORK/k.der', pkcs8) from keys
		    where id = $id" >/dev/null
		if openssl pkcs8 -inform DER -nocrypt -in "$WORK/k.der" \
		    -out /dev/null 2>/dev/null; then
			plain=$((plain + 1))
		fi
	done
	is "$n: no blob in the store parses as a plain PKCS#8" "$plain" 0
	check_not "$n: sqlite3 .dump shows no PEM private key" sh -c \
	    "sqlite3 '$db' .dump | grep -q 'PRIVATE KEY'"
done
is "unencrypted CA: the key row says 0" \
    "$(sqlite3 "$S1" 'select k.encrypted from keys k join cas c on
    c.key_id = k.id')" 0

# The default store: $XDG_DATA_HOME/certmint/certmint.db, 0700 / 0600.
export XDG_DATA_HOME="$WORK/xdg"
check "init with no --store and no CERTMINT_STORE" sh -c "umask 022; $C init"
check "store created under XDG_DATA_HOME" test -f "$WORK/xdg/certmint/certmint.db"
is "store directory is 0700" \
    "$(stat -c %a "$WORK/xdg/certmint")" 700
is "store file is 0600" "$(stat -c %a "$WORK/xdg/certmint/certmint.db")" 600
unset XDG_DATA_HOME
check "no XDG_DATA_HOME: ~/.local/share/certmint" sh -c "umask 000; $C init"
is "~/.local/share/certmint is 0700" \
    "$(stat -c %a "$HOME/.local/share/certmint")" 700
is "~/.local/share/certmint/certmint.db is 0600 even with umask 000" \
    "$(stat -c %a "$HOME/.local/share/certmint/certmint.db")" 600

# --store PATH beats CERTMINT_STORE; --store=PATH works too.
export CERTMINT_STORE="$WORK/env.db"
check "--store before the command" $C --store "$WORK/flag.db" init
check "--store wrote its own file" test -f "$WORK/flag.db"
check_not "... and not CERTMINT_STORE's" test -e "$WORK/env.db"
check "--store=PATH" $C --store="$WORK/flag2.db" init
check "--store=PATH wrote its file" test -f "$WORK/flag2.db"
expect_fail 2 "--store.*path" "--store without a path" $C --store
unset CERTMINT_STORE

# The trust hint works as printed when the store holds several CAs.
CERTMINT_STORE="$WORK/two.db" $C init --name First >/dev/null 2>&1
CERTMINT_STORE="$WORK/two.db" $C init --name "bob's CA" >"$WORK/two.out" 2>&1
hint=$(sed -n 's/^Trust it: certmint //p' "$WORK/two.out")
is "a second CA's hint names it, quoted" "$hint" \
    "ca show 'bob'\\''s CA' --pem > ca.crt"
check "... and runs as printed" sh -c "cd '$WORK' &&
    export CERTMINT_STORE='$WORK/two.db' &&
    eval \"'$C' \$(sed -n 's/^Trust it: certmint //p' two.out)\" &&
    openssl x509 -in ca.crt -noout -subject | grep -q \"bob's CA\""
is "... and the install hint names it too (issue 14, item 8)" \
    "$(sed -n 's/^Install it: certmint //p' "$WORK/two.out")" \
    "trust install 'bob'\\''s CA'"
CERTMINT_STORE="$WORK/hint.db" $C init >"$WORK/one.out" 2>&1
is "the first CA's hint names certmint trust install" \
    "$(sed -n 's/^Install it: //p' "$WORK/one.out")" \
    "certmint trust install"
check "global --help" $C --help
out_has "... names the ~/.local/share fallback of the store (issue 14, item 8)" \
    '~/\.local/share/certmint/certmint\.db'
check "init --help" $C init --help
out_has "init --help shows --permit" --permit
check_not "init --help offers no --passphrase VALUE" \
    grep -Eq -- '--passphrase[[:space:]]' "$WORK/out.prev"
done_testing
