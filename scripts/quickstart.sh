#!/bin/sh
# quickstart.sh - the main job in one command: installs the dependencies,
# builds certmint, then on the default store (~/.local/share/certmint/, or
# $CERTMINT_STORE) creates a dev CA if there is none, issues a server pair
# for localhost into ./certs/, shows it, and runs the TLS harness on it.
set -eu
cd "$(dirname "$0")/.."
CERTMINT_MINIMAL_DEPS=${CERTMINT_MINIMAL_DEPS:-1} ./scripts/install-deps.sh
./scripts/build.sh --enable-static-deps
cm=./cmd/certmint
out=${CERTMINT_QUICKSTART_DIR:-certs}
mkdir -p "$out"

if ! $cm ca show >/dev/null 2>&1; then
	$cm init
fi
$cm issue server localhost 127.0.0.1 ::1 --force \
	--cert "$out/localhost.crt" --key "$out/localhost.key"
$cm ca show --pem > "$out/ca.crt"
echo
$cm show localhost
if $cm test --help >/dev/null 2>&1; then
	echo
	$cm test --cert localhost
fi
echo
echo "Files: $out/localhost.crt $out/localhost.key (0600) $out/ca.crt"
echo "Trust the CA where your client needs it, e.g."
echo "  curl --cacert $out/ca.crt https://localhost:PORT/"
