#!/bin/sh
# harness-floor.sh - the seeds' TLS floor wherever certmint speaks TLS
# (issue 13, item 4): test serve refuses TLS 1.1, a TLS 1.2 offer of CBC
# suites only and one of RSA key exchange only, and still serves a modern
# client.  Every server listens on 127.0.0.1 (port 0) and stops by itself.
. "$top_srcdir/tests/cli/lib.sh"
need openssl
need timeout

C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 >/dev/null 2>&1
"$C" ca show --pem >ca.crt

# wait_for FILE REGEX: up to 5 s
wait_for() {
	_i=0
	while [ $_i -lt 100 ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# serve: one test serve for NAME's connections, port in $SP.
serve() {
	timeout --foreground -k 5 20 "$C" test serve --cert localhost \
	    --listen 127.0.0.1:0 --count "$1" >"$WORK/serve.log" 2>&1 &
	SERVE=$!
	wait_for "$WORK/serve.log" "^listening on 127\.0\.0\.1:[0-9]+" ||
	    diag "$WORK/serve.log"
	SP=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$WORK/serve.log")
}

# s_client DESC ARGS...: must fail to connect (no cipher, no protocol).
refused() {
	_d=$1
	shift
	echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$SP" \
	    -servername localhost -CAfile ca.crt "$@" >"$WORK/sc.out" 2>&1
	_rc=$?
	if [ $_rc -ne 0 ] && ! grep -q "^ *Cipher is [A-Z]" "$WORK/sc.out"
	then
		ok "$_d"
	else
		not_ok "$_d"
		diag "$WORK/sc.out"
	fi
}

serve 4
refused "floor: TLS 1.1 is refused" -tls1_1 -cipher DEFAULT:@SECLEVEL=0
refused "floor: TLS 1.0 is refused" -tls1 -cipher DEFAULT:@SECLEVEL=0
refused "floor: TLS 1.2 with CBC suites only is refused" -tls1_2 \
    -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:@SECLEVEL=0'
refused "floor: TLS 1.2 with RSA key exchange only is refused" -tls1_2 \
    -cipher 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:@SECLEVEL=0'
wait $SERVE

# A modern client still gets through, under 1.2 and 1.3.
serve 2
for v in tls1_2 tls1_3; do
	echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$SP" \
	    -servername localhost -CAfile ca.crt -verify_return_error \
	    "-$v" >"$WORK/sc.out" 2>&1
	if grep -Eq "^ *(New, TLSv1\.[23], )?Cipher is .*(GCM|CHACHA|CCM)" \
	    "$WORK/sc.out"; then
		ok "floor: $v with an AEAD suite connects"
	else
		not_ok "floor: $v with an AEAD suite connects"
		diag "$WORK/sc.out"
	fi
done
wait $SERVE
done_testing
