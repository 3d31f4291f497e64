#!/bin/sh
# quickstart.sh - the main job in one command: installs the dependencies,
# builds certmint, then runs scripts/main-job.sh: on the default store
# (~/.local/share/certmint/, or $CERTMINT_STORE) the dev CA, a server pair
# for localhost into ./certs/, shown, and the TLS harness run on it.
set -eu
cd "$(dirname "$0")/.."
CERTMINT_MINIMAL_DEPS=${CERTMINT_MINIMAL_DEPS:-1} ./scripts/install-deps.sh
./scripts/build.sh
exec ./scripts/main-job.sh
