#!/bin/sh
# install-deps.sh - installs every build and test dependency of certmint
# with apt-get (Debian 12).  Run as root (or with sudo available).
# Optional test peers (chromium, a JDK, SoftHSM2, NSS tools) are installed
# too, so that the tests that use them run instead of being skipped; set
# CERTMINT_MINIMAL_DEPS=1 to install only what the build and core tests need.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
	libgnutls28-dev libtasn1-6-dev libtasn1-bin libsqlite3-dev
	libjansson-dev libmicrohttpd-dev libcmocka-dev libunistring-dev libpq-dev"
TEST="gnutls-bin openssl python3 python3-cryptography sqlite3 curl ca-certificates
	iproute2 util-linux bsdutils e2fsprogs procps
	wget nginx-light mandoc bash-completion zsh certbot lego caddy pebble
	postgresql postgresql-client"
PEERS="softhsm2 libnss3-tools default-jdk-headless chromium wrk time
	hyperfine mkcert strace"

pkgs="$BUILD $TEST"
if [ "${CERTMINT_MINIMAL_DEPS:-0}" != 1 ]; then
	pkgs="$pkgs $PEERS"
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps.sh: run as root (apt-get needs it)" >&2
	exit 2
fi

# Skip the network when everything is there already.
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps.sh: all dependencies are installed"
	exit 0
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
# nginx-light is a test peer, started by the tests on loopback ports with
# their own configuration: the packaged service (port 80 on every
# address) must not be left running.
if command -v systemctl >/dev/null 2>&1 &&
    systemctl is-active --quiet nginx 2>/dev/null; then
	$SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
elif [ -x /etc/init.d/nginx ] && pgrep -x nginx >/dev/null 2>&1; then
	$SUDO /etc/init.d/nginx stop >/dev/null 2>&1 || true
fi
# The same for Caddy (an ACME client of certmint serve in the tests).
if command -v systemctl >/dev/null 2>&1 &&
    systemctl is-active --quiet caddy 2>/dev/null; then
	$SUDO systemctl disable --now caddy >/dev/null 2>&1 || true
fi
