#!/bin/sh
# serve-kill.sh - kill -9 of certmint serve in the middle of 100
# concurrent ACME orders (issue 15 acceptance): after a restart every
# order is in a valid state (pending, ready, processing, valid, invalid),
# every order that says valid has its certificate in the inventory, and
# the store opens and serves again.  Loopback only, bounded.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need sqlite3
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"

. "$top_srcdir/tests/cli/serve-lib.sh"
PORT=$(free_port)
HP=$(free_port)
# serve_at OUT: serve on PORT, http-01 to HP for every *.app.test.
serve_at() {
	serve_start "$1" --listen "127.0.0.1:$PORT" --http01-port "$HP" \
	    --rate-orders 1000 --resolve '*.app.test=127.0.0.1'
}

serve_at s1.out
python3 "$PROBE" "$DIR" "$BUNDLE" many-orders 100 "$HP" >many.out 2>&1 &
LPID=$!
PIDS="$PIDS $LPID"
# Let some orders finish, then kill -9 in the middle.
i=0
while [ "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders WHERE status = 'valid'" 2>/dev/null || echo 0)" -lt 10 ] &&
    [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
wait "$LPID" 2>/dev/null
orders=$(sqlite3 "$S" "SELECT count(*) FROM acme_orders")
check "orders were made before the kill ($orders)" test "$orders" -ge 10
check "... and not all of them finished" test "$(sqlite3 "$S" \
    "SELECT count(*) FROM acme_orders WHERE status = 'valid'")" -lt 100

serve_at s2.out
check "serve starts again on the store" test -n "$DIR"
is "every order is pending, ready, processing, valid or invalid" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders WHERE status NOT IN ('pending', 'ready', 'processing', 'valid', 'invalid')")" 0
is "every valid order's certificate is in the inventory" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_orders o WHERE o.status = 'valid' AND NOT EXISTS (SELECT 1 FROM certs c WHERE c.serial = o.cert_serial)")" 0
is "every certificate issued over ACME has its account and its valid order (finalize is one commit)" \
    "$(sqlite3 "$S" "SELECT count(*) FROM certs c JOIN cert_names n ON n.cert_id = c.id WHERE n.name LIKE 'n%.app.test' AND (c.acme_account_id IS NULL OR NOT EXISTS (SELECT 1 FROM acme_orders o WHERE o.cert_serial = c.serial AND o.status = 'valid'))")" 0
is "every authorization of an order is in a valid state" \
    "$(sqlite3 "$S" "SELECT count(*) FROM acme_authzs WHERE status NOT IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')")" 0
check "the store passes its check" "$CERTMINT" store check
kill -TERM "$SPID"; wait "$SPID"
is "and stops cleanly" "$?" 0

done_testing
