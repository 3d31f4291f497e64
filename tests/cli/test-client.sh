#!/bin/sh
# test-client.sh - certmint test client -- CMD (issue 13, item 1) on an
# empty machine (no store): the example clients, curl, wget, openssl
# s_client, gnutls-cli and a Java client; bad input.  Every listener is
# certmint's own, on 127.0.0.1 with a fresh port, for one connection.
. "$top_srcdir/tests/cli/lib.sh"
need python3

C=$CERTMINT
EX=$top_srcdir/examples/clients
cd "$WORK" || exit 1
# The warning scenarios (transport rules): reported, not critical.
WEAK='tls1\.[01]-only|cbc-sha1-only|3des-only|rsa-kx-only'
skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $*"; }

# The seeds' insecure client: exit 1, the key scenarios named.
"$C" test client --timeout 5s -- python3 "$EX/insecure.py" {addr} {port} \
    {name} >"$WORK/ins.out" 2>"$WORK/ins.err"
is "insecure.py: exit 1" "$?" 1
for s in untrusted-root wrong-hostname expired-twin self-signed \
    not-yet-valid-twin client-eku-twin name-constraints-twin; do
	grep -q "^FAIL $s: the client accepted" "$WORK/ins.err" &&
	    ok "insecure.py: $s named as accepted" ||
	    { not_ok "insecure.py: $s named as accepted"; diag "$WORK/ins.err"; }
done
grep -q "FAIL expired-twin: the client accepted an expired certificate (exit 0, sent [0-9]* bytes)" \
    "$WORK/ins.err" && ok "the FAIL line says what, exit and bytes" ||
    { not_ok "the FAIL line says what, exit and bytes"; diag "$WORK/ins.err"; }
is "no store was created" "$(ls -A "$WORK" | grep -c 'store')" 0
is "no temporary folder left" \
    "$(ls -d /tmp/certmint-client.* 2>/dev/null | wc -l)" 0

check "secure.py: exit 0" "$C" test client --timeout 5s -- python3 \
    "$EX/secure.py" {addr} {port} {name} {ca}
cp "$WORK/out" "$WORK/sec.out"
check "secure.py: the valid certificate accepted" grep -Eq \
    "^name:localhost +critical +accept +accepted" "$WORK/sec.out"
check "secure.py: the expired one rejected" grep -Eq \
    "^expired-twin +critical +reject +rejected" "$WORK/sec.out"

# JSON fields.
"$C" test client --format json --only expired -- python3 "$EX/insecure.py" \
    {addr} {port} {name} >"$WORK/j.out" 2>/dev/null
check "json: scenario, severity, expected, verdict, alert, client_exit, bytes, note" \
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["scenarios"][0]
for k in ("scenario", "severity", "expected", "verdict", "alert",
          "client_exit", "bytes", "note"):
    assert k in r, k
assert r["scenario"] == "expired-twin" and r["verdict"] == "accepted"
assert r["expected"] == "reject" and r["client_exit"] == 0 and r["bytes"] > 0
' "$WORK/j.out"

if command -v curl >/dev/null; then
	check "curl --cacert: exit 0" "$C" test client --timeout 5s -- curl \
	    -sS --cacert {ca} --resolve {name}:{port}:{addr} {url}
	"$C" test client --timeout 5s -- curl -sSk --resolve \
	    {name}:{port}:{addr} {url} >"$WORK/out" 2>"$WORK/err"
	is "curl -k: exit 1" "$?" 1
	grep -q "^FAIL untrusted-root: the client accepted" "$WORK/err" &&
	    ok "curl -k: untrusted-root named" || not_ok "curl -k: named"
else
	skip "curl not installed"; skip "curl"; skip "curl"
fi

if command -v wget >/dev/null; then
	# wget resolves {name} itself: the wrong names do not resolve (a
	# rejection, with no connection).
	# Finding: wget 1.21 (GnuTLS) accepts a server certificate whose
	# EKU is clientAuth only; every other scenario goes right.
	"$C" test client --timeout 5s -- wget -q -O - --tries=1 \
	    --ca-certificate={ca} {url} >"$WORK/out" 2>"$WORK/err"
	is "wget --ca-certificate: exit 1" "$?" 1
	# Finding: and an RSA-1024 leaf (a warning).
	is "wget: only the clientAuth-only certificate is accepted wrongly" \
	    "$(grep '^FAIL' "$WORK/err" | cut -d: -f1 | grep -Ev "$WEAK" |
	    tr '\n' ' ')" \
	    "FAIL client-eku-twin FAIL rsa1024-leaf "
else
	skip "wget not installed"
fi

if command -v openssl >/dev/null; then
	check "openssl s_client -verify_return_error: exit 0" "$C" test client \
	    --timeout 5s -- sh -c 'printf "GET / HTTP/1.0\r\n\r\n" |
	    exec openssl s_client -quiet -verify_return_error -connect \
	    "$CERTMINT_ADDR:$CERTMINT_PORT" -servername "$CERTMINT_NAME" \
	    $(case $CERTMINT_NAME in *[!0-9.]*) echo -verify_hostname ;;
	    *) echo -verify_ip ;; esac) "$CERTMINT_NAME" \
	    -CAfile "$CERTMINT_CA"'
else
	skip "openssl not installed"
fi

if command -v gnutls-cli >/dev/null; then
	check "gnutls-cli: exit 0" "$C" test client --timeout 5s -- sh -c \
	    'printf "hello\n" | exec gnutls-cli --x509cafile "$CERTMINT_CA" \
	    --sni-hostname "$CERTMINT_NAME" --verify-hostname "$CERTMINT_NAME" \
	    -p "$CERTMINT_PORT" "$CERTMINT_ADDR"'
else
	skip "gnutls-cli not installed"
fi

if command -v javac >/dev/null && command -v java >/dev/null; then
	cat >"$WORK/Client.java" <<'JAVA'
import java.io.*;
import java.security.KeyStore;
import java.security.cert.*;
import javax.net.ssl.*;

public class Client {
	public static void main(String[] a) throws Exception {
		KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
		ks.load(null, null);
		int i = 0;
		try (InputStream in = new FileInputStream(a[3])) {
			for (Certificate c : CertificateFactory.getInstance("X.509")
			    .generateCertificates(in))
				ks.setCertificateEntry("ca" + i++, c);
		}
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(
		    TrustManagerFactory.getDefaultAlgorithm());
		tmf.init(ks);
		SSLContext ctx = SSLContext.getInstance("TLS");
		ctx.init(null, tmf.getTrustManagers(), null);
		java.net.Socket raw = new java.net.Socket(a[0],
		    Integer.parseInt(a[1]));
		SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(
		    raw, a[2], Integer.parseInt(a[1]), true);
		SSLParameters p = s.getSSLParameters();
		p.setEndpointIdentificationAlgorithm("HTTPS");
		p.setServerNames(java.util.List.of(new SNIHostName(a[2])));
		s.setSSLParameters(p);
		s.getOutputStream().write(("GET / HTTP/1.0\r\nHost: " + a[2]
		    + "\r\n\r\n").getBytes());
		s.getOutputStream().flush();
		System.out.println(new BufferedReader(new InputStreamReader(
		    s.getInputStream())).readLine());
		s.close();
	}
}
JAVA
	if javac -d "$WORK" "$WORK/Client.java" 2>"$WORK/javac.err"; then
		# Java checks the name against the host it was given: the
		# scenario name, connected via the address.
		"$C" test client --timeout 10s -- java -cp "$WORK" Client \
		    {addr} {port} {name} {ca} >"$WORK/out" 2>"$WORK/err"
		_rc=$?
		# Finding: the JDK's PKIX does not apply the name
		# constraints of a trust anchor (RFC 5280 6.1.1: optional).
		is "java (SSLSocket, HTTPS identification): exit 1" "$_rc" 1
		# Finding: and, at the JDK's default security properties,
		# a SHA-1-signed and an RSA-1024 leaf (warnings).
		is "java: only the name-constraints twin is accepted wrongly" \
		    "$(grep '^FAIL' "$WORK/err" | cut -d: -f1 | grep -Ev "$WEAK" |
	    tr '\n' ' ')" \
		    "FAIL name-constraints-twin FAIL sha1-signed-leaf FAIL rsa1024-leaf "
	else
		skip "javac failed"
	fi
else
	skip "java not installed"
fi

# Bad input: one line each, exit 2.
expect_fail 2 "^certmint: client command 'no-such-client-xyz' not found$" \
    "a CMD that does not exist" "$C" test client -- no-such-client-xyz {port}
expect_fail 2 "^certmint: client 'true' never connected \(every scenario rejected: no connection\)" \
    "a CMD that never connects" "$C" test client -- true
expect_fail 2 "--runs '0'" "--runs 0" "$C" test client --runs 0 -- true
expect_fail 2 "no client command" "no CMD" "$C" test client
check "test client --help" "$C" test client --help
out_has "help names the substitutions" "\{addr\}.*\{port\}"
done_testing
