#!/bin/sh
# keys-java.sh - a JVM (HttpsURLConnection) trusting the CA through the
# PKCS#12 truststore certmint exported connects to a TLS server serving a
# certmint pair; with another CA's truststore it refuses.
. "$top_srcdir/tests/cli/lib.sh"
need javac
need java
need python3
cd "$WORK" || exit 1

check "init" "$CERTMINT" init --name "Java CA"
check "issue localhost" "$CERTMINT" issue server localhost 127.0.0.1 \
    --cert srv.crt --key srv.key
echo 'trust-pw' > tp
check "export the truststore" "$CERTMINT" export "Java CA" --format p12 \
    --no-key --out trust.p12 --password-file tp
check "a legacy truststore too" "$CERTMINT" export "Java CA" --format p12 \
    --no-key --legacy --out trust-legacy.p12 --password-file tp
check "another CA" "$CERTMINT" init --name "Other CA"
check "its truststore" "$CERTMINT" export "Other CA" --format p12 --no-key \
    --out other.p12 --password-file tp

cp "$top_srcdir/tests/interop/KeysTlsClient.java" .
check "javac" javac -d . KeysTlsClient.java

python3 "$top_srcdir/tests/interop/keys_tls_server.py" srv.crt srv.key \
    port 30 &
SRV=$!
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat port 2>/dev/null)
[ -n "$PORT" ] || { kill "$SRV" 2>/dev/null; skip_all "server did not start"; }

jrun() {
	timeout 20 java -Djavax.net.ssl.trustStore="$1" \
	    -Djavax.net.ssl.trustStoreType=PKCS12 \
	    -Djavax.net.ssl.trustStorePassword=trust-pw -cp . KeysTlsClient "$PORT"
}
check "JVM connects with the exported truststore" jrun trust.p12
cp "$WORK/out" j1.out
check "and reads the page" grep -q "status 200 .*certmint-keys-ok" j1.out
check "JVM connects with the legacy truststore" jrun trust-legacy.p12
check_not "JVM refuses with another CA's truststore" jrun other.p12
cp "$WORK/out" j2.out
check "a PKIX failure" grep -q "handshake failed" j2.out
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null
done_testing
