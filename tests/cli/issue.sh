#!/bin/sh
# issue.sh - certmint issue: profiles, typed names, files, modes, --force,
# key types, --days, --profile FILE, the CA made on first use, the audit log.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need sqlite3
need python3
C=$CERTMINT
cd "$WORK" || exit 1

# text FILE: the certificate as openssl prints it, into $WORK/text.
text() { openssl x509 -noout -text -in "$1" >"$WORK/text"; }
has() { check "$1" grep -Eq -- "$2" "$WORK/text"; }
hasnt() { check_not "$1" grep -Eq -- "$2" "$WORK/text"; }

# The first issue on an empty store creates the dev CA.
check_not "no store yet" test -e "$CERTMINT_STORE"
check "issue server on an empty store" $C issue server localhost \
    127.0.0.1 ::1
err_has "it says it created the CA" "created CA"
check "... and names certmint trust install (issue 14, item 8)" \
    grep -q "trust it with: certmint trust install" "$WORK/err.prev"
is "one CA in the store" \
    "$(sqlite3 "$CERTMINT_STORE" 'select count(*) from cas')" 1
$C ca show --pem >"$WORK/ca.crt"
check "default files localhost.crt and localhost.key" \
    test -s localhost.crt -a -s localhost.key
check "the pair matches (openssl pkey/x509 public keys)" sh -c \
    "test \"\$(openssl pkey -in localhost.key -pubout)\" = \
    \"\$(openssl x509 -in localhost.crt -noout -pubkey)\""
text localhost.crt
has "CN is the first name" 'Subject:.*CN *= *localhost'
has "SAN DNS:localhost" 'DNS:localhost'
has "SAN IP 127.0.0.1" 'IP Address:127\.0\.0\.1'
has "SAN IP ::1" 'IP Address:0:0:0:0:0:0:0:1'
has "EKU serverAuth" 'TLS Web Server Authentication'
hasnt "no clientAuth on a server cert" 'TLS Web Client Authentication'
check "basicConstraints CA:FALSE, critical" sh -c "grep -A1 \
    'Basic Constraints: critical' '$WORK/text' | grep -q 'CA:FALSE'"
has "keyUsage critical" 'Key Usage: critical'
has "keyUsage digitalSignature" 'Digital Signature'
has "SKID" 'Subject Key Identifier'
has "AKID" 'Authority Key Identifier'
has "ec-p256 by default" 'prime256v1|P-256'
check "verifies under the CA" openssl verify -x509_strict -CAfile \
    "$WORK/ca.crt" localhost.crt
# RFC 5280 4.1.2.2: positive, at most 20 octets; certmint uses 16 random.
serial=$(openssl x509 -noout -serial -in localhost.crt | cut -d= -f2)
check "serial is positive and non-zero (openssl prints no '-')" \
    sh -c "echo '$serial' | grep -Eq '^[0-9A-F]*[1-9A-F][0-9A-F]*\$'"
dbserial=$(sqlite3 "$CERTMINT_STORE" "select serial from certs")
check "the store has the same serial (leading zeros aside)" sh -c \
    "echo '$dbserial' | tr a-f A-F | grep -Eq '^0*$serial\$'"
check "serial is 128 random bits, first octet non-zero" python3 -c \
    "s = int('$serial', 16); assert 2**120 <= s < 2**128, s"
is "the store's serial is 32 hex digits" "${#dbserial}" 32
nb=$(openssl x509 -noout -startdate -in localhost.crt | cut -d= -f2)
na=$(openssl x509 -noout -enddate -in localhost.crt | cut -d= -f2)
is "default validity 397 days" \
    "$(( ($(date -d "$na" +%s) - $(date -d "$nb" +%s)) / 86400 ))" 397

# Every name type, a wildcard first: file name _wildcard.app.test.*.
check "issue server with wildcard, DNS, IPv4, IPv6, email, URI" \
    $C issue server '*.app.test' www.app.test 10.1.2.3 2001:db8::7 \
    ops@app.test spiffe://app.test/web
check "wildcard file names" test -s _wildcard.app.test.crt -a \
    -s _wildcard.app.test.key
text _wildcard.app.test.crt
has "SAN DNS:*.app.test" 'DNS:\*\.app\.test'
has "SAN DNS:www.app.test" 'DNS:www\.app\.test'
has "SAN IP 10.1.2.3" 'IP Address:10\.1\.2\.3'
has "SAN IPv6 2001:db8::7" 'IP Address:2001:DB8:0:0:0:0:0:7'
has "SAN email" 'email:ops@app\.test'
has "SAN URI" 'URI:spiffe://app\.test/web'
has "CN is the wildcard" 'Subject:.*CN *= *\*\.app\.test'

check "issue client" $C issue client alice@app.test
text alice@app.test.crt
has "client: EKU clientAuth" 'TLS Web Client Authentication'
hasnt "client: no serverAuth" 'TLS Web Server Authentication'
has "client: SAN email" 'email:alice@app\.test'
check "client verifies for sslclient" openssl verify -x509_strict \
    -purpose sslclient -CAfile "$WORK/ca.crt" alice@app.test.crt

mkdir "$WORK/p"
check "issue peer with --cert/--key/--chain" $C issue peer node1.test \
    --cert "$WORK/p/n1.pem" --key "$WORK/p/n1-key.pem" \
    --chain "$WORK/p/n1-chain.pem"
check "--cert/--key files written" test -s "$WORK/p/n1.pem" -a \
    -s "$WORK/p/n1-key.pem"
check_not "no default-named files for --cert/--key" test -e node1.test.crt
check "--chain file written" test -e "$WORK/p/n1-chain.pem"
is "--chain of a root-issued cert holds no root" \
    "$(grep -c 'BEGIN CERTIFICATE' "$WORK/p/n1-chain.pem")" 0
text "$WORK/p/n1.pem"
has "peer: serverAuth" 'TLS Web Server Authentication'
has "peer: clientAuth" 'TLS Web Client Authentication'

# Key files are 0600 whatever the umask; certificates are not secret.
check "issue with umask 000" sh -c "umask 000; $C issue server u.test"
is "key file 0600 with umask 000" "$(stat -c %a u.test.key)" 600
check "issue with umask 077" sh -c "umask 077; $C issue server v.test"
is "key file 0600 with umask 077" "$(stat -c %a v.test.key)" 600
check "key is unencrypted PKCS#8 PEM" grep -q 'BEGIN PRIVATE KEY' u.test.key

# An existing file is never overwritten without --force.
cp u.test.crt "$WORK/u.before"
cp u.test.key "$WORK/u.key.before"
n0=$(sqlite3 "$CERTMINT_STORE" 'select count(*) from certs')
expect_fail 2 "u\.test\.(crt|key).*exist" "reissue without --force" \
    $C issue server u.test
check "certificate unchanged" cmp -s u.test.crt "$WORK/u.before"
check "key unchanged" cmp -s u.test.key "$WORK/u.key.before"
is "no row added" "$(sqlite3 "$CERTMINT_STORE" 'select count(*) from certs')" \
    "$n0"
check "reissue with --force" $C issue server u.test --force
check_not "certificate replaced" cmp -s u.test.crt "$WORK/u.before"
check_not "key replaced" cmp -s u.test.key "$WORK/u.key.before"
is "key still 0600 after --force" "$(stat -c %a u.test.key)" 600
check "new pair matches" sh -c "test \"\$(openssl pkey -in u.test.key \
    -pubout)\" = \"\$(openssl x509 -in u.test.crt -noout -pubkey)\""

# Fresh key per certificate, every key type.
for t in ed25519 ec-p384 rsa-2048; do
	check "issue --key-type $t" $C issue server "kt-$t.test" --key-type "$t"
	text "kt-$t.test.crt"
	case $t in
	ed25519) has "$t in the certificate" 'ED25519' ;;
	ec-p384) has "$t in the certificate" 'secp384r1|P-384' ;;
	rsa-2048)
		has "$t in the certificate" '\(2048 bit\)'
		has "rsa: keyEncipherment" 'Key Encipherment' ;;
	esac
	check "$t verifies" openssl verify -x509_strict -purpose sslserver \
	    -CAfile "$WORK/ca.crt" "kt-$t.test.crt"
done
text kt-ed25519.test.crt
hasnt "ed25519: no keyEncipherment" 'Key Encipherment'
check "two certificates never share a key" sh -c "test \"\$(openssl pkey \
    -in u.test.key -pubout)\" != \"\$(openssl pkey -in v.test.key -pubout)\""

check "issue --days 10" $C issue server d10.test --days 10
nb=$(openssl x509 -noout -startdate -in d10.test.crt | cut -d= -f2)
na=$(openssl x509 -noout -enddate -in d10.test.crt | cut -d= -f2)
is "--days 10 gives 10 days" \
    "$(( ($(date -d "$na" +%s) - $(date -d "$nb" +%s)) / 86400 ))" 10
check_not "... without a note" grep -q "note:" "$WORK/err"
check "issue --days 9000 (beyond the CA)" $C issue server d9k.test --days 9000
err_has "... says it was cut to the CA's expiry" \
    "^certmint: note: --days 9000 cut to 20[0-9-]*T[0-9:]*Z, when CA '.*' expires"
cana=$($C ca show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["not_after"])')
is "... and ends with the CA" \
    "$(date -u -d "$(openssl x509 -noout -enddate -in d9k.test.crt | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" \
    "$cana"

# --profile FILE: a custom template (certtool syntax).
cat >"$WORK/custom.tmpl" <<'T'
# a custom profile
organization = "Custom Org"
unit = "QA"
expiration_days = 42
tls_www_server
tls_www_client
signing_key
T
check "issue --profile FILE" $C issue --profile "$WORK/custom.tmpl" \
    custom.test
text custom.test.crt
has "custom profile: organization" 'O *= *Custom Org'
has "custom profile: unit" 'OU *= *QA'
has "custom profile: serverAuth" 'TLS Web Server Authentication'
has "custom profile: clientAuth" 'TLS Web Client Authentication'
nb=$(openssl x509 -noout -startdate -in custom.test.crt | cut -d= -f2)
na=$(openssl x509 -noout -enddate -in custom.test.crt | cut -d= -f2)
is "custom profile: expiration_days 42" \
    "$(( ($(date -d "$na" +%s) - $(date -d "$nb" +%s)) / 86400 ))" 42
check "issue --profile client (by name)" $C issue --profile client \
    bob@app.test
text bob@app.test.crt
has "--profile client gives clientAuth" 'TLS Web Client Authentication'

# A kind that the profile's extendedKeyUsage does not serve is refused,
# naming both; a kind the profile serves (peer is both) is not.
n0=$(sqlite3 "$CERTMINT_STORE" 'select count(*) from certs')
expect_fail 2 "'client' conflicts with --profile server: .*not for TLS clients" \
    "issue client --profile server" $C issue client x.test --profile server
expect_fail 2 "'server' conflicts with --profile client: .*not for TLS servers" \
    "issue server --profile client" $C issue server x.test --profile client
expect_fail 2 "'peer' conflicts with --profile server" \
    "issue peer --profile server" $C issue peer x.test --profile server
printf 'tls_www_server\n' >"$WORK/srv.tmpl"
expect_fail 2 "'client' conflicts with --profile .*srv\.tmpl" \
    "issue client --profile FILE without clientAuth" \
    $C issue client x.test --profile "$WORK/srv.tmpl"
is "... nothing issued" "$(sqlite3 "$CERTMINT_STORE" \
    'select count(*) from certs')" "$n0"
check_not "... no file written" test -e x.test.crt
check "issue server --profile server" $C issue server ks.test --profile server
check "issue server --profile peer (peer is both)" \
    $C issue server kp.test --profile peer
printf 'tls_www_client\nsigning_key\n' >"$WORK/cli.tmpl"
check "issue client --profile FILE with clientAuth" \
    $C issue client kc@app.test --profile "$WORK/cli.tmpl"
text kc@app.test.crt
has "... it is a client certificate" 'TLS Web Client Authentication'
check "issue peer --profile FILE with both" \
    $C issue peer kb.test --profile "$WORK/custom.tmpl"

# --json result.
check "issue --json" sh -c "$C issue server j.test --json >'$WORK/j.json'"
check "issue --json parses, names and files" python3 -c "import json
d = json.load(open('$WORK/j.json'))
assert d['names'] == ['j.test'] and d['profile'] == 'server', d
assert d['cert_file'].endswith('j.test.crt'), d"

# The audit log: ca.create, then one issue row per certificate.
is "events: one ca.create" "$(sqlite3 "$CERTMINT_STORE" \
    "select count(*) from events where action = 'ca.create'")" 1
is "events: an issue row per certificate" "$(sqlite3 "$CERTMINT_STORE" \
    "select count(*) from events where action = 'issue'")" \
    "$(sqlite3 "$CERTMINT_STORE" 'select count(*) from certs')"
row=$(sqlite3 -separator '|' "$CERTMINT_STORE" "select time, actor, object,
    details from events where action = 'issue' order by id limit 1")
now=$(date +%s)
t=${row%%|*}
check "event time is now (unix seconds)" \
    test "$t" -le "$now" -a "$t" -gt $((now - 300))
is "event actor is the user" "$(echo "$row" | cut -d'|' -f2)" \
    "$(id -un)"
is "event object is the serial" "$(echo "$row" | cut -d'|' -f3)" \
    "$(sqlite3 "$CERTMINT_STORE" 'select serial from certs order by id
    limit 1')"
check "event details carry the names" sh -c "echo '$row' |
    grep -q 'localhost,127.0.0.1,::1'"
check_not "events cannot be deleted" \
    sqlite3 "$CERTMINT_STORE" "delete from events"
err_has "... the trigger says append-only" "append-only"

# --cert alone: the key goes beside it, not into the current folder.
mkdir -p "$WORK/placed"
check "--cert placed/beside.crt without --key" $C issue server beside.test \
    --cert "$WORK/placed/beside.crt"
is "... the key is placed/beside.key, 0600" \
    "$(stat -c %a "$WORK/placed/beside.key" 2>&1)" 600
check_not "... and not ./beside.test.key" test -e "$WORK/beside.test.key"

check "issue --help" $C issue --help
out_has "--help documents --force" --force

# The program uses the system's shared GnuTLS, so that its security fixes
# reach certmint with the system's updates (issue 14, item 10).  The
# loader lists what the program loads (in a build tree, with the
# libcertmint.so beside it, as libtool's wrapper runs it).
real=$C
if [ -x "$top_builddir/cmd/.libs/certmint" ]; then
	real=$top_builddir/cmd/.libs/certmint
fi
if command -v nm >/dev/null 2>&1 && command -v ldd >/dev/null 2>&1 &&
    head -c 4 "$real" | grep -q ELF; then
	LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	    ldd "$real" >"$WORK/loaded" 2>&1
	check "the program loads the system's libgnutls.so" \
	    grep -Eq 'libgnutls\.so\.[0-9]+ => /(usr/)?lib/' "$WORK/loaded"
	check_not "... and carries no copy of its own" \
	    sh -c "nm -D --defined-only '$real' 2>/dev/null | grep -q ' T gnutls_'"
else
	ok "# SKIP no nm, or the program is not an ELF file"
fi

# ---- issue 13 item 5, issue 14 items 7 and 8: windows, names, --force ----
mkdir -p "$WORK/win" && cd "$WORK/win" || exit 1
$C ca show --pem >ca.pem
check "--not-after -1d: an expired certificate" $C issue server \
    old.test --not-after -1d
openssl verify -CAfile ca.pem old.test.crt >vfy.txt 2>&1
check "... openssl verify calls it expired" grep -q \
    "certificate has expired" vfy.txt
check "... Python ssl reads a notAfter in the past" python3 -c '
import ssl, time
d = ssl._ssl._test_decode_cert("old.test.crt")
assert ssl.cert_time_to_seconds(d["notAfter"]) < time.time(), d
'
is "... listed as expired" "$($C list --name old.test --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["certificates"][0]["status"])')" \
    expired
check "--not-before +2h: a not-yet-valid certificate" $C issue server \
    young.test --not-before +2h
openssl verify -CAfile ca.pem young.test.crt >vfy.txt 2>&1
check "... openssl verify calls it not yet valid" grep -q \
    "certificate is not yet valid" vfy.txt
$C show young.test --json >young.json
is "... show --json says not-yet-valid" "$(python3 -c '
import json; print(json.load(open("young.json"))["status"])')" not-yet-valid
check "... list --status not-yet-valid finds it" sh -c \
    "$C list --status not-yet-valid | grep -q young.test"
check "an RFC 3339 window" $C issue server span.test \
    --not-before 2026-01-01T00:00:00Z --not-after 2026-02-01T00:00:00Z
openssl x509 -in span.test.crt -noout -startdate -enddate >dates.txt
check "... exactly the dates given" sh -c 'grep -q "notBefore=Jan  1 00:00:00 2026 GMT" dates.txt &&
    grep -q "notAfter=Feb  1 00:00:00 2026 GMT" dates.txt'
expect_fail 2 "^certmint: validity: not before .* is not before not after" \
    "not-before after not-after is refused" \
    $C issue server bad.test --not-before +2d --not-after +1d
expect_fail 2 "^certmint: validity: not after .* is after CA 'certmint dev CA' expires" \
    "a window past the CA's expiry is refused" \
    $C issue server bad.test --not-after 2199-01-01T00:00:00Z
expect_fail 2 "^certmint issue: --not-after '1x': give an RFC 3339 time" \
    "a bad time is a usage error" $C issue server bad.test --not-after 1x
check_not "... no file written" test -e bad.test.crt
check "--help documents --not-before and --not-after" sh -c \
    "$C issue --help | grep -q -- '--not-before T, --not-after T'"

# The file stem follows the certified (lower-cased) name.
check "issue UPPER.Test" $C issue server UPPER.Test
check "... writes upper.test.crt" test -f upper.test.crt
check_not "... not UPPER.Test.crt" test -e UPPER.Test.crt

# Valid names of 241 to 253 characters: the temp file name stays short.
long241=$(python3 -c 'print(".".join(["a" * 63] * 3) + "." + "b" * 43 + ".test")')
long253=$(python3 -c 'print(".".join(["a" * 63] * 3) + "." + "c" * 55 + ".test")')
check "a 241-character name is issued" $C issue server "$long241"
check "... into NAME.crt" test -f "$long241.crt"
check "a 253-character name is issued" $C issue server "$long253"
check "... into a shortened, hashed NAME~XXXXXXXX.crt" sh -c \
    "ls | grep -Eq '^a{63}\\..{176}~[0-9a-f]{8}\\.crt\$'"
is "... no temp file left" "$(ls -A | grep -c certmint-)" 0

# --force over an earlier certificate's files: that one is superseded.
check "issue f.test" $C issue server f.test
first=$($C show f.test --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')
check "issue f.test again with --force" $C issue server f.test --force
is "... the first one is superseded" "$($C show "$first" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" \
    superseded
expect_fail 2 "renewed already \(superseded\)" \
    "... so it cannot be renewed over the new files" $C renew "$first" \
    --force
cd "$WORK" || exit 1
done_testing
