#!/bin/sh
# keys-chromium.sh - headless Chromium, with its own HOME and profile,
# trusts the CA through the NSS database 'certmint trust install --nss'
# wrote in $HOME/.pki/nssdb: https://localhost:PORT/ loads without a
# certificate error; after uninstall it fails with
# ERR_CERT_AUTHORITY_INVALID.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need certutil
CHROMIUM=
for c in chromium chromium-browser google-chrome; do
	command -v "$c" >/dev/null 2>&1 && { CHROMIUM=$c; break; }
done
[ -n "$CHROMIUM" ] || skip_all "chromium not installed"
cd "$WORK" || exit 1

check "init" "$CERTMINT" init --name "Browser CA"
check "issue localhost" "$CERTMINT" issue server localhost 127.0.0.1 ::1 \
    --cert srv.crt --key srv.key
python3 "$top_srcdir/tests/interop/keys_tls_server.py" srv.crt srv.key \
    port 40 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$WORK"' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat port 2>/dev/null)
[ -n "$PORT" ] || skip_all "server did not start"

# Each run gets a fresh profile; HOME (and so ~/.pki/nssdb) is the test's.
browse() {
	rm -rf "$WORK/profile"
	timeout 30 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-background-networking --disable-component-update \
	    --no-first-run --user-data-dir="$WORK/profile" \
	    --dump-dom "https://localhost:$PORT/" >"$WORK/dom" 2>"$WORK/log"
	cat "$WORK/dom"
}

check "trust install --nss ~/.pki/nssdb" "$CERTMINT" trust install \
    --nss "$HOME/.pki/nssdb"
browse >/dev/null
check "the page loads: its text is there" grep -q certmint-keys-ok "$WORK/dom"
check "no certificate error" sh -c "! grep -q ERR_CERT '$WORK/log'"

check "trust uninstall" "$CERTMINT" trust uninstall --nss "$HOME/.pki/nssdb"
browse >/dev/null
check "the page does not load" sh -c "! grep -q certmint-keys-ok '$WORK/dom'"
check "ERR_CERT_AUTHORITY_INVALID" grep -q ERR_CERT_AUTHORITY_INVALID \
    "$WORK/log"
done_testing
