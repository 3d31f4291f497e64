#!/bin/sh
# certmint sign: requests from openssl and certtool, PEM and DER; the
# request's key is certified, its extensions are not copied; a broken
# signature or a name outside the constraints is refused with nothing kept.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need certtool
need sqlite3
C=$CERTMINT
cd "$WORK" || exit 1

spki() { openssl "$1" -in "$2" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n'; }
count() { sqlite3 "$CERTMINT_STORE" "SELECT count(*) FROM certs"; }

check "sign --help" $C sign --help
check "init" $C init --name Dev --permit .test --permit 10.0.0.0/8
$C ca show --pem > ca.pem

# openssl req, asking for more than it may get.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout api.key -subj "/CN=api.test/O=Requester Inc" \
    -addext "subjectAltName=DNS:api.test,DNS:www.api.test,IP:10.0.0.7" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out api.csr 2>/dev/null
check "sign an openssl request (PEM)" $C sign api.csr --profile server
[ -s api.crt ] && ok "default output: api.crt next to api.csr" ||
    not_ok "default output: api.crt next to api.csr"
is "the certificate carries the request's public key" \
    "$(spki x509 api.crt)" "$(spki req api.csr)"
openssl x509 -in api.crt -noout -text > api.txt
grep -q "CA:FALSE" api.txt && ok "requested CA:TRUE is not copied" ||
    not_ok "requested CA:TRUE is not copied"
grep -q "Certificate Sign" api.txt && not_ok "requested keyCertSign is not copied" ||
    ok "requested keyCertSign is not copied"
grep -q "TLS Web Server Authentication" api.txt &&
    ok "the profile decides the EKU (serverAuth)" ||
    not_ok "the profile decides the EKU (serverAuth)"
grep -q "DNS:api.test, DNS:www.api.test, IP Address:10.0.0.7" api.txt &&
    ok "the request's names, CN first, no duplicate" ||
    not_ok "the request's names, CN first, no duplicate"
grep -q "Requester Inc" api.txt && not_ok "the request's O is not copied" ||
    ok "the request's O is not copied"
check "openssl verify -x509_strict accepts it" \
    openssl verify -x509_strict -purpose sslserver -CAfile ca.pem api.crt
is "the requester's private key matches the certificate" \
    "$(openssl pkey -in api.key -pubout | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n')" \
    "$(spki x509 api.crt)"

# DER, RSA.
openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key \
    -subj "/CN=rsa.test" -outform DER -out rsa.der 2>/dev/null
check "sign a DER request (RSA 2048)" \
    $C sign rsa.der --profile client --cert rsa.crt --json
grep -q '"key_type": "rsa-2048"' "$WORK/out" &&
    ok "key type taken from the request's key" ||
    not_ok "key type taken from the request's key"
is "RSA: the request's public key" "$(spki x509 rsa.crt)" \
    "$(openssl req -inform DER -in rsa.der -noout -pubkey | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n')"
grep -q "TLS Web Client Authentication" <<EOT
$(openssl x509 -in rsa.crt -noout -text)
EOT
[ $? -eq 0 ] && ok "client profile: clientAuth" || not_ok "client profile: clientAuth"

# certtool --generate-request.
certtool --generate-privkey --key-type ed25519 --outfile ct.key >/dev/null 2>&1
cat > ct.tmpl <<'T'
cn = "ct.test"
dns_name = "ct.test"
dns_name = "*.ct.test"
ip_address = "10.9.8.7"
email = "ops@ct.test"
T
certtool --generate-request --load-privkey ct.key --template ct.tmpl \
    --outfile ct.csr >/dev/null 2>&1
check "sign a certtool request (Ed25519) with --chain" \
    $C sign ct.csr --profile peer --cert ct.crt --chain ct-chain.pem
is "certtool request: its public key" "$(spki x509 ct.crt)" "$(spki req ct.csr)"
grep -q "DNS:\*.ct.test" <<EOT
$(openssl x509 -in ct.crt -noout -ext subjectAltName)
EOT
[ $? -eq 0 ] && ok "wildcard SAN taken" || not_ok "wildcard SAN taken"
check "certtool --verify accepts it" certtool --verify \
    --load-ca-certificate ca.pem --infile ct.crt
is "a root-signed chain file is empty" "$(wc -c < ct-chain.pem)" 0

# Refusals leave nothing behind.
n0=$(count)
openssl req -new -newkey rsa:1024 -nodes -keyout weak.key \
    -subj "/CN=weak.test" -out weak.csr 2>/dev/null
expect_fail 2 "^certmint: weak.csr: RSA key of 1024 bits: certmint signs RSA keys of 2048, 3072 or 4096 bits$" \
    "a weak RSA key is refused" $C sign weak.csr --profile server
python3 - <<'P'
import base64
lines = open("api.csr").read().split("\n")
der = bytearray(base64.b64decode("".join(l for l in lines if l and not l.startswith("-----"))))
der[-3] ^= 0x01   # inside the signature value
b = base64.encodebytes(bytes(der)).decode()
open("bad.csr", "w").write("-----BEGIN CERTIFICATE REQUEST-----\n" + b + "-----END CERTIFICATE REQUEST-----\n")
P
expect_fail 2 "^certmint: bad.csr: signature does not verify$" \
    "a tampered signature is refused" $C sign bad.csr --profile server
[ -e bad.crt ] && not_ok "no file for a refused request" ||
    ok "no file for a refused request"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout out.key -subj "/CN=www.example.com" -out out.csr 2>/dev/null
expect_fail 2 "^certmint: name 'www.example.com' is outside the name constraints of CA 'Dev'$" \
    "a name outside the constraints is refused" \
    $C sign out.csr --profile server
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout sp.key -subj "/CN=a.test" \
    -addext "subjectAltName=DNS:ok.test,IP:192.168.1.1" -out sp.csr \
    2>/dev/null
expect_fail 2 "name '192.168.1.1' is outside the name constraints" \
    "a SAN IP outside the constraints is refused" \
    $C sign sp.csr --profile server
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout cn.key -subj "/CN=not a host" -out cn.csr 2>/dev/null
expect_fail 2 "^certmint: cn.csr: subject CN: name 'not a host' has a space" \
    "a CN that is not a name (and no SAN) is refused" $C sign cn.csr --profile server
cat > dn.cnf <<'T'
[req]
distinguished_name = dn
[dn]
[ext]
subjectAltName = DNS:dir.test, dirName:dir_sect
[dir_sect]
CN = somebody
T
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout dn.key -subj "/CN=dir.test" -config dn.cnf -reqexts ext \
    -out dn.csr 2>/dev/null
expect_fail 2 "^certmint: dn.csr: subjectAltName 2 is of a type certmint does not sign" \
    "a directoryName SAN is refused, not dropped" $C sign dn.csr --profile server
printf 'garbage\n' > junk.csr
expect_fail 2 "^certmint: junk.csr: not a certificate request" \
    "garbage is refused" $C sign junk.csr --profile server
expect_fail 2 "profile 'intermediate-ca' is a CA profile" \
    "a CA profile is refused" $C sign api.csr --profile intermediate-ca \
    --cert x.crt
expect_fail 2 "--profile is required" "--profile is required" $C sign api.csr
expect_fail 2 "api.crt: file exists" "an existing file needs --force" \
    $C sign api.csr --profile server
expect_fail 2 "nosuch.csr: No such file" "a missing file" \
    $C sign nosuch.csr --profile server
is "no row for any refused request" "$(count)" "$n0"

# Recorded like an issuance, without a key.
is "event 'sign' names the request" \
    "$(sqlite3 "$CERTMINT_STORE" "SELECT count(*) FROM events WHERE action = 'sign' AND details LIKE '%request=api.csr%'")" 1
is "no key kept for a signed request" \
    "$(sqlite3 "$CERTMINT_STORE" "SELECT count(*) FROM certs WHERE cn = 'api.test' AND key_id IS NOT NULL")" 0
expect_fail 2 "its key was not kept in the store: renew with --rekey" \
    "renew without --rekey explains" $C renew api.test --force

# Under an intermediate: the chain file makes the path.
check "ca create Int" $C ca create Int --parent Dev
check "sign under the intermediate with --chain" $C sign api.csr \
    --profile server --ca Int --cert api-int.crt --chain api-int-chain.pem
check "openssl verify -x509_strict: leaf -> Int -> Dev" openssl verify \
    -x509_strict -CAfile ca.pem -untrusted api-int-chain.pem api-int.crt

# A CN that is a label, not a name: left out next to SANs (the first SAN is
# the CN); alone, refused.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout label.key -out label.csr -subj "/CN=My Service" \
    -addext "subjectAltName=DNS:svc.test,DNS:svc2.test" >/dev/null 2>&1
check "sign: a label CN next to SANs" $C sign label.csr --profile server --ca Dev \
    --cert label.crt
openssl x509 -in label.crt -noout -subject -ext subjectAltName >label.txt
grep -q "CN *= *svc.test" label.txt &&
    ! grep -q "My Service" label.txt &&
    grep -q "DNS:svc.test, DNS:svc2.test" label.txt &&
    ok "... CN is the first SAN, the label is gone" ||
    { not_ok "... CN is the first SAN, the label is gone"; diag label.txt; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout label2.key -out label2.csr -subj "/CN=My Service" >/dev/null 2>&1
expect_fail 2 "label2.csr: subject CN: name 'My Service'" \
    "sign: a label CN alone is refused" $C sign label2.csr --profile server --ca Dev \
    --cert label2.crt
check_not "... nothing written" test -e label2.crt
done_testing
