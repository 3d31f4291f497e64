#!/bin/sh
# serve-verdict.sh - test serve says, per connection, whether the client
# accepted the certificate (handshake and data) or rejected it (alert or
# close), and --expect accept|reject with --count N judges them (issue 13,
# item 3).  It logged 'ok' for a curl that rejected a wrong-hostname
# certificate (curl exit 60) and for a client with verification off.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need curl
need timeout
C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost >/dev/null 2>&1 || skip_all "cannot issue"
"$C" ca show --pem >ca.crt

wait_for() {
	_i=0
	while [ $_i -lt 200 ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# serve LOG ARGS...: test serve in the background; sets SP and SERVE.
serve() {
	_log=$1; shift
	timeout --foreground -k 5 30 "$C" test serve --cert localhost \
	    --listen 127.0.0.1:0 --timeout 3s "$@" >"$_log" 2>&1 &
	SERVE=$!
	wait_for "$_log" "^listening on 127\.0\.0\.1:[0-9]+" ||
		{ not_ok "serve listens"; diag "$_log"; }
	SP=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$_log")
}
get() { # get NAME CURL-ARGS...: curl https://NAME:SP/ through 127.0.0.1
	_n=$1; shift
	curl -sS --max-time 10 --resolve "$_n:$SP:127.0.0.1" "$@" \
	    "https://$_n:$SP/" >/dev/null 2>&1
}

serve "$WORK/a.log" --count 2 --expect accept
get localhost --cacert ca.crt
get localhost --cacert ca.crt --tlsv1.3
wait "$SERVE"
is "--expect accept: two verifying curls, exit 0" "$?" 0
check "... logged as accepted, with the version" \
    grep -Eq '^connection 1: accepted from=127\.0\.0\.1:[0-9]+ version=TLS1\.[23]' \
    "$WORK/a.log"

serve "$WORK/r.log" --count 2 --expect reject
get other.test --cacert ca.crt          # wrong name: curl exit 60
get localhost                           # the system trust lacks the CA
wait "$SERVE"
is "--expect reject: a wrong name and an unknown CA, exit 0" "$?" 0
check "... logged as rejected" grep -q '^connection 1: rejected' "$WORK/r.log"
check "... the second too" grep -q '^connection 2: rejected' "$WORK/r.log"

serve "$WORK/k.log" --count 1 --expect reject
get other.test -k                       # verification off: it talks
wait "$SERVE"
is "a client with verification off is a mismatch: exit 1" "$?" 1
check "... named on its line" grep -q '^MISMATCH connection 1: the client accepted, expected reject' "$WORK/k.log"

expect_fail 2 "--expect 'maybe': accept or reject" "a bad --expect" \
    "$C" test serve --cert localhost --count 1 --expect maybe
expect_fail 2 "--expect needs --count" "--expect without --count" \
    "$C" test serve --cert localhost --expect accept
expect_fail 2 "not with --require-client-cert" \
    "--expect with a client certificate asked for" \
    "$C" test serve --cert localhost --count 1 --expect accept \
    --require-client-cert
done_testing
