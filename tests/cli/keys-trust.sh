#!/bin/sh
# keys-trust.sh - certmint trust against real tools in temp places: the
# Debian system store under CERTMINT_SYSTEM_ROOT (never the real one), an
# NSS database through certutil, a Java keystore through keytool.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
cd "$WORK" || exit 1

check "init" "$CERTMINT" init --name "Trust CA"
"$CERTMINT" ca show --pem > ca.pem 2>/dev/null ||
    "$CERTMINT" export "Trust CA" --format pem --out ca.pem

# --- system store, sandboxed ---
export CERTMINT_SYSTEM_ROOT="$WORK/root"
# Another local CA, as on any real system: update-ca-certificates only
# rewrites its bundle when at least one certificate remains.
mkdir -p "$WORK/root/usr/local/share/ca-certificates"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout /dev/null -out "$WORK/root/usr/local/share/ca-certificates/other.crt" \
    -days 2 -subj "/CN=Other CA" 2>/dev/null
if command -v update-ca-certificates >/dev/null 2>&1 ||
    [ -x /usr/sbin/update-ca-certificates ]; then
	check "system install" "$CERTMINT" trust install --system
	cp "$WORK/out" s1.out
	check "prints what it changed" grep -q "installed.*certmint-Trust_CA" \
	    s1.out
	bundle="$WORK/root/etc/ssl/certs/ca-certificates.crt"
	check "bundle holds the CA" sh -c "openssl storeutl -noout -certs \
	    '$bundle' >/dev/null && grep -q \"\$(sed -n 2p ca.pem)\" '$bundle'"
	check "system install again" "$CERTMINT" trust install --system
	cp "$WORK/out" s2.out
	check "second run changes nothing" grep -q "already installed" s2.out
	check "system status" "$CERTMINT" trust status --system
	cp "$WORK/out" s3.out
	check "status: installed" grep -q "^system  *installed" s3.out
	check "system uninstall" "$CERTMINT" trust uninstall --system
	check "bundle no longer holds it" sh -c "! grep -q \
	    \"\$(sed -n 2p ca.pem)\" '$bundle'"
	check "status after uninstall" "$CERTMINT" trust status --system
	cp "$WORK/out" s4.out
	check "status: not installed" grep -q "not installed" s4.out
	check "uninstall leaves no dangling link in etc/ssl/certs" sh -c \
	    "! find '$WORK/root/etc/ssl/certs' -xtype l | grep -q ."

	# issue 14, item 8: a failing update-ca-certificates left the .crt
	# behind, and status then said "installed" while the bundle lacked
	# the CA.  The shim fails as the real one does (exit 1).
	mkdir -p shim
	printf '#!/bin/sh\necho "E: shim failed" >&2\nexit 1\n' \
	    >shim/update-ca-certificates
	chmod +x shim/update-ca-certificates
	crt="$WORK/root/usr/local/share/ca-certificates/certmint-Trust_CA-"
	expect_fail 2 "^certmint: update-ca-certificates failed \(exit 1\): E: shim failed; .*certmint-Trust_CA-[0-9a-f]+\.crt removed again$" \
	    "install with a failing updater: one line" \
	    env PATH="$WORK/shim:$PATH" "$CERTMINT" trust install --system
	check "... leaves no .crt behind" sh -c "! ls '$crt'* 2>/dev/null"
	check "... status: not installed" "$CERTMINT" trust status --system
	out_has "... (said so)" "^system  *not installed"
	# A .crt in place without the bundle (an older certmint's failed
	# install): status judges by the bundle, install completes it.
	cp ca.pem "$(sed -n 's/^system  *not installed  *//p' "$WORK/out.prev")"
	check "a .crt the bundle lacks: status" \
	    "$CERTMINT" trust status --system
	out_has "... says not installed, and why" \
	    "^system  *not installed .*bundle lacks the CA"
	check "... install runs the updater again" \
	    "$CERTMINT" trust install --system
	out_has "... and says installed (not 'already')" "^system  *installed "
	check "... the bundle holds the CA" sh -c "grep -q \
	    \"\$(sed -n 2p ca.pem)\" '$bundle'"
	check "status names the runtimes that skip the system store" \
	    "$CERTMINT" trust status --system
	cp "$WORK/out" rt.out
	check "... REQUESTS_CA_BUNDLE for Python requests" \
	    grep -q "export REQUESTS_CA_BUNDLE=$bundle\$" rt.out
	check "... SSL_CERT_FILE" grep -q "export SSL_CERT_FILE=$bundle\$" \
	    rt.out
	check "... NODE_EXTRA_CA_CERTS for Node.js" \
	    grep -q "export NODE_EXTRA_CA_CERTS=${crt}[0-9a-f]*\.crt\$" \
	    rt.out
	if command -v python3 >/dev/null 2>&1; then
		check "... Python's ssl with that bundle trusts the CA" \
		    python3 -c 'import ssl,sys
c = ssl.create_default_context(cafile=sys.argv[1])
assert any("Trust CA" in str(x.get("subject")) for x in
    c.get_ca_certs()), c.get_ca_certs()' "$bundle"
	fi
	# An updater failing on uninstall: the .crt is gone, the error said.
	expect_fail 2 "^certmint: update-ca-certificates failed \(exit 1\)" \
	    "uninstall with a failing updater: one line" \
	    env PATH="$WORK/shim:$PATH" "$CERTMINT" trust uninstall --system
	check "uninstall again with the real updater" \
	    "$CERTMINT" trust uninstall --system
	check "... no dangling link" sh -c \
	    "! find '$WORK/root/etc/ssl/certs' -xtype l | grep -q ."
	check "... bundle no longer holds it" sh -c "! grep -q \
	    \"\$(sed -n 2p ca.pem)\" '$bundle'"
else
	ok "# SKIP update-ca-certificates not installed"
fi

# --- a tool that is missing: exit 2 and a clear message ---
# A PATH with everything but certutil and keytool.
mkdir -p emptybin
for d in /usr/local/bin /usr/bin /bin; do
	for t in "$d"/*; do
		b=${t##*/}
		case $b in certutil|keytool) continue ;; esac
		[ -e "emptybin/$b" ] || ln -s "$t" "emptybin/$b"
	done
done
expect_fail 2 "certutil not found.*libnss3-tools" "missing certutil" \
    env PATH="$WORK/emptybin" "$CERTMINT" trust install --nss "$WORK/nssdb"
expect_fail 2 "keytool not found" "missing keytool" \
    env PATH="$WORK/emptybin" "$CERTMINT" trust install --java "$WORK/ks"
check "default targets skip a missing certutil" env PATH="$WORK/emptybin" \
    "$CERTMINT" trust status
cp "$WORK/out" d.out
check "with a note naming the package" grep -q \
    "skipped: certutil not found (libnss3-tools)" d.out
expect_fail 2 "no target|needs a" "--nss without a folder" \
    "$CERTMINT" trust install --nss ""

# --- NSS ---
if command -v certutil >/dev/null 2>&1; then
	check "nss install (creates the db)" "$CERTMINT" trust install \
	    --nss "sql:$WORK/nssdb"
	check "certutil -L sees the CA" sh -c "certutil -L -d 'sql:$WORK/nssdb' \
	    | grep -q 'certmint Trust CA'"
	check "trusted as a CA (C,,)" sh -c "certutil -L -d 'sql:$WORK/nssdb' \
	    | grep 'certmint Trust CA' | grep -q 'C,,'"
	check "nss install again" "$CERTMINT" trust install --nss "$WORK/nssdb"
	cp "$WORK/out" n2.out
	check "nothing changed" grep -q "already installed" n2.out
	check "nss uninstall" "$CERTMINT" trust uninstall --nss "$WORK/nssdb"
	check "certutil -L no longer sees it" sh -c "! certutil -L \
	    -d 'sql:$WORK/nssdb' | grep -q 'certmint Trust CA'"
	check "nss uninstall again" "$CERTMINT" trust uninstall --nss \
	    "$WORK/nssdb"
	# Firefox profiles, found the way Firefox keeps them.
	prof="$HOME/.mozilla/firefox/abcd.default-release"
	mkdir -p "$prof" && certutil -N -d "sql:$prof" --empty-password
	check "firefox install" "$CERTMINT" trust install --firefox
	check "profile has the CA" sh -c "certutil -L -d 'sql:$prof' | \
	    grep -q 'certmint Trust CA'"
	check "chromium install" "$CERTMINT" trust install --chromium
	check "chromium db has the CA" sh -c "certutil -L \
	    -d 'sql:$HOME/.pki/nssdb' | grep -q 'certmint Trust CA'"
	check "status --json" "$CERTMINT" trust status --firefox --chromium --json
	cp "$WORK/out" j.out
	is "both installed" "$(grep -c '"installed": true' j.out)" 2
	check "uninstall both" "$CERTMINT" trust uninstall --firefox --chromium
else
	ok "# SKIP certutil (libnss3-tools) not installed"
fi

# --- Java ---
if command -v keytool >/dev/null 2>&1; then
	check "java install (creates the keystore)" "$CERTMINT" trust install \
	    --java "$WORK/cacerts"
	check "keytool -list sees it" sh -c "keytool -list -keystore \
	    '$WORK/cacerts' -storepass changeit | grep -q trustedCertEntry"
	check "java install again" "$CERTMINT" trust install --java \
	    "$WORK/cacerts"
	cp "$WORK/out" k2.out
	check "nothing changed" grep -q "already installed" k2.out
	echo wrong > wpw
	expect_fail 4 "wrong password" "wrong keystore password" \
	    "$CERTMINT" trust status --java "$WORK/cacerts" \
	    --java-password-file wpw
	check "java uninstall" "$CERTMINT" trust uninstall --java \
	    "$WORK/cacerts"
	check "keytool no longer lists it" sh -c "! keytool -list -keystore \
	    '$WORK/cacerts' -storepass changeit | grep -q trustedCertEntry"
else
	ok "# SKIP keytool not installed"
fi
check "--help" "$CERTMINT" trust --help
done_testing
