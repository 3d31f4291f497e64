# serve-lib.sh - shared by the certmint serve tests (sourced after lib.sh):
# a loopback port, and a serve started in the background that the test's
# end stops (kill by PID).

CM="$CERTMINT"
PROBE="$top_srcdir/tests/cli/acme_probe.py"
cd "$WORK" || exit 1
S="$CERTMINT_STORE"
PIDS=
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve_start OUT ARGS...: starts serve (stopping by itself after 300 s),
# waits for its "CA bundle" line; sets SPID, HTTPS, HTTP, DIR, BUNDLE.
serve_start() {
	_out=$1; shift
	"$CM" serve --timeout 300 "$@" >"$_out" 2>"$_out.err" &
	SPID=$!
	PIDS="$PIDS $SPID"
	_i=0
	while ! grep -q '^CA bundle to trust:' "$_out" 2>/dev/null &&
	    [ $_i -lt 150 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	HTTPS=$(sed -n 's|^listening on \(https://[^ ]*\)/$|\1|p' "$_out")
	HTTP=$(sed -n 's|^listening on \(http://[^ ]*\)/ .*|\1|p' "$_out")
	DIR=$(sed -n 's/^ACME directory: //p' "$_out" | head -1)
	BUNDLE=$(sed -n 's/^CA bundle to trust: //p' "$_out")
}

# serve_init: a dev CA whose name constraints cover what the tests ask
# for (.test names, localhost and loopback addresses for serve's own
# HTTPS certificate).
serve_init() {
	"$CM" init --permit .test --permit localhost --permit 127.0.0.0/8 \
	    --permit ::1/128 >/dev/null 2>&1
}
