#!/bin/sh
# main-job.sh - scripts/main-job.sh, what the README's first command runs
# once certmint is built: a server pair for localhost from the dev CA on any
# store a user may have (none, one CA of their own, several), the CA file
# that verifies it, and no CA made when one is there to use.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need openssl
need sqlite3
C=$CERTMINT
JOB=$top_srcdir/scripts/main-job.sh
export CERTMINT="$C"
cd "$WORK" || exit 1

# run DESC STORE: the job on STORE, its files in $WORK/certs-<store name>.
run() {
	_d=$1; _s=$2
	out="$WORK/certs-$(basename "$_s" .db)"
	check "$_d" env CERTMINT_STORE="$_s" CERTMINT_QUICKSTART_DIR="$out" \
	    sh "$JOB"
	cp "$WORK/out" "$WORK/job.out"
}

# pair DESC CA-NAME: the pair in $out verifies against $out/ca.crt for
# localhost, 127.0.0.1 and ::1, and ca.crt is the CA named CA-NAME.
pair() {
	check "$1: localhost.crt verifies against ca.crt for localhost" \
	    openssl verify -x509_strict -purpose sslserver -verify_hostname \
	    localhost -CAfile "$out/ca.crt" "$out/localhost.crt"
	check "... for 127.0.0.1" openssl verify -x509_strict -purpose \
	    sslserver -verify_ip 127.0.0.1 -CAfile "$out/ca.crt" \
	    "$out/localhost.crt"
	check "... for ::1" openssl verify -x509_strict -purpose sslserver \
	    -verify_ip ::1 -CAfile "$out/ca.crt" "$out/localhost.crt"
	is "... ca.crt is the CA '$2'" \
	    "$(openssl x509 -noout -subject -nameopt RFC2253 -in "$out/ca.crt" |
	    sed -n 's/^subject=CN=\([^,]*\).*/\1/p')" "$2"
	is "... the key is 0600" "$(stat -c %a "$out/localhost.key")" 600
	check "... and matches the certificate" sh -c \
	    "test \"\$(openssl pkey -in '$out/localhost.key' -pubout)\" = \
	    \"\$(openssl x509 -in '$out/localhost.crt' -noout -pubkey)\""
}

cas() { sqlite3 "$1" "select name from cas order by name" | tr '\n' ';'; }

# An empty store: the dev CA is made.
S1="$WORK/empty.db"
run "a new store" "$S1"
check "... the harness ran on the pair, all matched" \
    grep -Eq "^[0-9]+ scenarios: [0-9]+ matched, 0 mismatched" "$WORK/job.out"
pair "new store" "certmint dev CA"
is "... one CA, the dev CA" "$(cas "$S1")" "certmint dev CA;"
run "the job again on that store" "$S1"
is "... makes no second CA" "$(cas "$S1")" "certmint dev CA;"
pair "again" "certmint dev CA"

# One CA of the user's own: the job uses it, as every command would.
S2="$WORK/own.db"
check "init 'team CA'" $C --store "$S2" init --name "team CA"
run "a store with one CA of another name" "$S2"
pair "one CA" "team CA"
is "... no dev CA made beside it" "$(cas "$S2")" "team CA;"

# Several CAs, the dev CA among them: commands need a name; the job names
# the dev CA (it stopped with "CA ... already exists" before).
S3="$WORK/several.db"
check "init" $C --store "$S3" init
check "init 'team CA'" $C --store "$S3" init --name "team CA"
run "a store with the dev CA and another" "$S3"
pair "several" "certmint dev CA"
is "... still two CAs" "$(cas "$S3")" "certmint dev CA;team CA;"

# Several CAs, none of them the dev CA: the dev CA is made and used.
S4="$WORK/others.db"
check "init 'a CA'" $C --store "$S4" init --name "a CA"
check "init 'b CA'" $C --store "$S4" init --name "b CA"
run "a store with two other CAs" "$S4"
pair "two others" "certmint dev CA"
is "... the dev CA made beside them" "$(cas "$S4")" "a CA;b CA;certmint dev CA;"

# A store it cannot read: the job stops with the store's error (3); it
# makes no CA (a CA made beside a user's would leave every later command
# asking for a name).
printf 'not a store\n' >"$WORK/junk.db"
chmod 600 "$WORK/junk.db"
expect_fail 3 "junk\.db is not an SQLite database" \
    "a store that is not one: stops with its error" \
    env CERTMINT_STORE="$WORK/junk.db" CERTMINT_QUICKSTART_DIR="$WORK/j" \
    sh "$JOB"
is "... the file is as it was" "$(cat "$WORK/junk.db")" "not a store"
check_not "... no pair written" test -e "$WORK/j/localhost.crt"

done_testing
