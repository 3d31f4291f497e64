#!/bin/sh
# tls-floor.sh - the seeds' floor wherever certmint speaks TLS (issue 13,
# item 4): TLS 1.2 or later, forward-secret key exchange, AEAD suites.
# `test serve` negotiated TLS 1.1 with openssl s_client -tls1_1 -cipher
# DEFAULT:@SECLEVEL=0 (ECDHE-ECDSA-AES256-SHA).  An RSA server key, so that
# an RSA key exchange (TLS_RSA_*, no forward secrecy) is on offer to refuse.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need timeout
C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost --key-type rsa-2048 >/dev/null 2>&1 ||
	skip_all "cannot issue"
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

# Five offers: three below the floor, two above it.
timeout --foreground -k 5 30 "$C" test serve --cert localhost \
    --listen 127.0.0.1:0 --count 5 >"$WORK/serve.log" 2>&1 &
SERVE=$!
wait_for "$WORK/serve.log" "^listening on 127\.0\.0\.1:[0-9]+" ||
	{ not_ok "serve listens"; diag "$WORK/serve.log"; }
SP=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/serve.log")

offer() {
	# shellcheck disable=SC2068
	echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$SP" \
	    -servername localhost -CAfile ca.crt -verify_return_error $@ \
	    >"$WORK/c.out" 2>&1
}
check_not "openssl s_client -tls1_1 -cipher DEFAULT:@SECLEVEL=0 is refused" \
    offer -tls1_1 -cipher DEFAULT:@SECLEVEL=0
check_not "TLS 1.2 with RSA key exchange only (no forward secrecy) is refused" \
    offer -tls1_2 -cipher AES128-GCM-SHA256
check_not "TLS 1.2 with CBC suites only is refused" \
    offer -tls1_2 -cipher ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384
check "TLS 1.2 with ECDHE and AES-GCM is taken" \
    offer -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
grep -q 'Protocol *: TLSv1.2' "$WORK/c.out" ||
    grep -q 'TLSv1.2' "$WORK/c.out" || not_ok "... TLS 1.2 negotiated"
check "TLS 1.3 is taken" offer -tls1_3
wait "$SERVE" 2>/dev/null

# The default matrix's own ends refuse TLS 1.1 too: a scenario file that
# asks for the floor only gets no TLS 1.1 handshake.
cat >"$WORK/old.scn" <<EOS
[scenario tls11-client]
server_cert = cert:localhost
trust = ca:certmint dev CA
name = localhost
client_priority = NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0
expect = protocol
EOS
check "a client that offers only TLS 1.0/1.1 fails against the floor" \
    "$C" test "$WORK/old.scn"
done_testing
