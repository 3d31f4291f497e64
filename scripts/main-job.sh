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

# With one CA in the store, that one.  With none, or several (then commands
# need a name), the dev CA that init makes, made when it is not there.  Any
# other failure (a locked or unreadable store) stops here: making a second
# CA beside the user's would leave every later command asking for a name.
set --
if ! msg=$("$cm" ca show 2>&1 >/dev/null); then
	case $msg in
	*"does not exist"*|*"has no CA"*)
		"$cm" init ;;
	*"CAs, name one"*)
		set -- "certmint dev CA"
		if ! msg=$("$cm" ca show "$1" 2>&1 >/dev/null); then
			case $msg in
			*"not found"*) "$cm" init ;;
			*) echo "$msg" >&2; exit 3 ;;
			esac
		fi ;;
	*)
		echo "$msg" >&2
		exit 3 ;;
	esac
fi
"$cm" issue server localhost 127.0.0.1 ::1 --force ${1+--ca "$1"} \
	--cert "$out/localhost.crt" --key "$out/localhost.key"
"$cm" ca show ${1+"$1"} --pem > "$out/ca.crt"
echo
"$cm" show localhost
if "$cm" test --help >/dev/null 2>&1; then
	echo
	"$cm" test --cert localhost
fi
echo
echo "Files: $out/localhost.crt $out/localhost.key (0600) $out/ca.crt"
echo "Trust the CA where your client needs it, e.g."
echo "  curl --cacert $out/ca.crt https://localhost:PORT/"
