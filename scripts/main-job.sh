#!/bin/sh
# main-job.sh - what quickstart.sh runs once certmint is built: on the
# default store (~/.local/share/certmint/, or $CERTMINT_STORE) it makes the
# dev CA when it is needed, issues a server pair for localhost, 127.0.0.1
# and ::1 into ./certs/ ($CERTMINT_QUICKSTART_DIR), shows it, and runs the
# TLS harness on it.  $CERTMINT names the program (./cmd/certmint).
set -eu
cm=${CERTMINT:-./cmd/certmint}
out=${CERTMINT_QUICKSTART_DIR:-certs}
mkdir -p "$out"

# With one CA in the store, that one; with none, or several (then commands
# need a name), the dev CA that init makes, made when it is not there.
set --
if ! $cm ca show >/dev/null 2>&1; then
	set -- "certmint dev CA"
	$cm ca show "$1" >/dev/null 2>&1 || $cm init
fi
$cm issue server localhost 127.0.0.1 ::1 --force ${1+--ca "$1"} \
	--cert "$out/localhost.crt" --key "$out/localhost.key"
$cm ca show ${1+"$1"} --pem > "$out/ca.crt"
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
