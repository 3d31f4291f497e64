#!/bin/sh
# certtool.sh - GnuTLS's certtool parses every certificate certmint issues
# and the CA, and verifies them for their names and purposes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need certtool
C=$CERTMINT
cd "$WORK" || exit 1
SERVER=1.3.6.1.5.5.7.3.1
CLIENT=1.3.6.1.5.5.7.3.2

# cv DESC ARGS...: certtool --verify against the dev CA says "Verified"
# (and exits 0); ncv DESC REASON ARGS...: it says "Not verified" for REASON.
cv() {
	_d=$1; shift
	if certtool --verify --verify-profile medium \
	    --load-ca-certificate "$WORK/ca.crt" "$@" >"$WORK/v" 2>&1 &&
	    grep -q '^Chain verification output: Verified' "$WORK/v"; then
		ok "$_d"
	else
		not_ok "$_d"; diag "$WORK/v"
	fi
}
ncv() {
	_d=$1; _r=$2; shift 2
	if certtool --verify --verify-profile medium \
	    --load-ca-certificate "$WORK/ca.crt" "$@" >"$WORK/v" 2>&1; then
		not_ok "$_d (verified)"
	elif grep -q '^Chain verification output: Not verified' "$WORK/v" &&
	    grep -Eq -- "$_r" "$WORK/v"; then
		ok "$_d"
	else
		not_ok "$_d (other reason)"; diag "$WORK/v"
	fi
}

check "init --permit .test" $C init --permit .test --permit 127.0.0.0/8 \
    --permit ::1/128 --permit @app.test
$C ca show --pem >"$WORK/ca.crt"
check "certtool -i parses the CA" certtool -i --infile "$WORK/ca.crt"
out_has "... a CA" 'Certificate Authority \(CA\): TRUE'
check "... with critical name constraints" grep -A3 \
    'Name Constraints (critical)' "$WORK/out.prev"
check "... permitting .test" grep -Eq 'DNSname: \.?test' "$WORK/out.prev"

check "issue server" $C issue server www.app.test '*.app.test' 127.0.0.1 \
    ::1 --cert srv.crt --key srv.key
check "issue client" $C issue client ann@app.test --cert cli.crt --key cli.key
check "issue peer" $C issue peer node.app.test --cert peer.crt --key peer.key
for t in ec-p384 ed25519 rsa-2048; do
	check "issue $t" $C issue server "$t.app.test" --key-type "$t" \
	    --cert "$t.crt" --key "$t.key"
done

for f in srv cli peer ec-p384 ed25519 rsa-2048; do
	check "certtool -i parses $f.crt" certtool -i --infile "$f.crt"
	out_has "... basic constraints CA:FALSE, critical" \
	    'Basic Constraints \(critical\):'
	check "... Certificate Authority (CA): FALSE" grep -q \
	    'Certificate Authority (CA): FALSE' "$WORK/out.prev"
	check "... has SKID and AKID" sh -c "grep -q 'Subject Key Identifier' \
	    '$WORK/out.prev' && grep -q 'Authority Key Identifier' \
	    '$WORK/out.prev'"
	check "certtool -k parses $f.key" certtool -k --infile "$f.key"
done
certtool -i --infile srv.crt >"$WORK/srv.txt"
check "srv: all SANs seen by certtool" sh -c "grep -q 'DNSname: www.app.test' \
    '$WORK/srv.txt' && grep -q 'DNSname: \*.app.test' '$WORK/srv.txt' &&
    grep -q 'IPAddress: 127.0.0.1' '$WORK/srv.txt' &&
    grep -q 'IPAddress: ::1' '$WORK/srv.txt'"
check "srv: TLS WWW Server purpose" grep -q 'TLS WWW Server' "$WORK/srv.txt"

cv "srv verifies" --infile srv.crt
cv "srv verifies for www.app.test" --infile srv.crt \
    --verify-hostname www.app.test
cv "srv verifies for x.app.test (wildcard)" --infile srv.crt \
    --verify-hostname x.app.test
ncv "srv not for a.b.app.test" "does not match" --infile srv.crt \
    --verify-hostname a.b.app.test
ncv "srv not for other.test" "does not match" --infile srv.crt \
    --verify-hostname other.test
cv "srv verifies for 127.0.0.1" --infile srv.crt --verify-hostname 127.0.0.1
cv "srv verifies for the server purpose" --infile srv.crt \
    --verify-purpose $SERVER
ncv "srv not for the client purpose" "intended purpose" --infile srv.crt \
    --verify-purpose $CLIENT
cv "cli verifies for ann@app.test" --infile cli.crt --verify-email ann@app.test
cv "cli verifies for the client purpose" --infile cli.crt \
    --verify-purpose $CLIENT
ncv "cli not for the server purpose" "intended purpose" --infile cli.crt \
    --verify-purpose $SERVER
cv "peer verifies for both purposes (server)" --infile peer.crt \
    --verify-purpose $SERVER --verify-hostname node.app.test
cv "peer verifies for both purposes (client)" --infile peer.crt \
    --verify-purpose $CLIENT
for t in ec-p384 ed25519 rsa-2048; do
	cv "$t verifies for $t.app.test" --infile "$t.crt" \
	    --verify-hostname "$t.app.test"
done
# The chain form: leaf then CA in one file.
cat srv.crt "$WORK/ca.crt" >"$WORK/chain.pem"
check "certtool --verify-chain on leaf + CA" certtool --verify-chain \
    --infile "$WORK/chain.pem"
out_has "... says verified" 'Chain verification output: Verified'
done_testing
