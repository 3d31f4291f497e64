#!/bin/sh
# verify.sh - certmint verify: verdicts and classes, --at, --name (DNS and
# IP), --purpose, --json, DER, intermediates, bad input; the verdicts are
# cross-checked with openssl verify -x509_strict.
. "$top_srcdir/tests/cli/lib.sh"
need python3

cd "$WORK" || exit 1
C=$CERTMINT

# class FILE: the "class" of a --json verdict.
class() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["class"])' \
		"$1" 2>/dev/null
}

# vclass DESC WANT_RC WANT_CLASS ARGS...: runs verify --json.
vclass() {
	_d=$1; _rc=$2; _cl=$3; shift 3
	"$C" verify --json "$@" >"$WORK/v.json" 2>"$WORK/err"
	_got=$?
	_gc=$(class "$WORK/v.json")
	if [ "$_got" -eq "$_rc" ] && [ "$_gc" = "$_cl" ]; then ok "$_d"; else
		not_ok "$_d (exit $_got, class '$_gc'; want $_rc, $_cl)"
		diag "$WORK/v.json" "$WORK/err"
	fi
}

check "issue a server certificate" \
	"$C" issue server www.test 10.0.0.1 ::1
"$C" ca show --pem >ca.pem
ca_name=$("$C" ca show --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["name"])')
nb=$("$C" show www.test --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["not_before"])')
na=$("$C" show www.test --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["not_after"])')

# --- valid ------------------------------------------------------------------
check "valid against the store's only CA" "$C" verify www.test.crt
grep -q "^www.test.crt: valid" "$WORK/out" && ok "text says valid" ||
	not_ok "text says valid"
vclass "valid with --ca NAME" 0 ok www.test.crt --ca "$ca_name" \
	--name www.test
vclass "valid with --trust ca.pem" 0 ok www.test.crt --trust ca.pem \
	--name www.test
vclass "IPv4 name matches the IP SAN" 0 ok www.test.crt --trust ca.pem \
	--name 10.0.0.1
vclass "IPv6 name matches the IP SAN" 0 ok www.test.crt --trust ca.pem \
	--name ::1
vclass "IPv6 name in another spelling matches" 0 ok www.test.crt \
	--trust ca.pem --name 0:0:0:0:0:0:0:1
vclass "--at inside the validity" 0 ok www.test.crt --trust ca.pem \
	--at "$nb"
openssl x509 -in www.test.crt -outform DER -out www.test.der 2>/dev/null
vclass "DER leaf" 0 ok www.test.der --trust ca.pem --name www.test

# --- the JSON document ------------------------------------------------------
"$C" verify www.test.crt --trust ca.pem --name 10.0.0.1 --json >v.json
if python3 - v.json "$ca_name" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = {"leaf", "valid", "class", "status_bits", "reasons", "chain",
        "name", "purpose", "at", "explanation"}
assert want <= set(j), set(j) ^ want
assert j["valid"] is True and j["class"] == "ok" and j["status_bits"] == 0
assert j["reasons"] == [] and j["name"] == "10.0.0.1"
assert j["purpose"] == "server" and j["leaf"] == "www.test.crt"
assert len(j["chain"]) == 2 and "CN=www.test" in j["chain"][0]
assert sys.argv[2] in j["chain"][1], j["chain"]
assert j["at"].endswith("Z")
EOF
then ok "--json has leaf, valid, class, status_bits, reasons, chain, ..."
else not_ok "--json document"; fi

# --- invalid: one class each -------------------------------------------------
vclass "wrong name: hostname" 1 hostname www.test.crt --trust ca.pem \
	--name other.test
grep -q "is not valid for the name 'other.test'" "$WORK/v.json" &&
	ok "hostname explanation names the name" ||
	not_ok "hostname explanation names the name"
vclass "sibling name: hostname" 1 hostname www.test.crt --trust ca.pem \
	--name www2.test
vclass "other IPv4: hostname" 1 hostname www.test.crt --trust ca.pem \
	--name 10.0.0.2
vclass "other IPv6: hostname" 1 hostname www.test.crt --trust ca.pem \
	--name ::2
vclass "client purpose on a server cert: purpose" 1 purpose www.test.crt \
	--trust ca.pem --purpose client
vclass "--purpose any skips the EKU check" 0 ok www.test.crt \
	--trust ca.pem --purpose any
vclass "before not_before: not-yet-valid" 1 not-yet-valid www.test.crt \
	--trust ca.pem --at 2020-01-01T00:00:00Z
vclass "after not_after: expired" 1 expired www.test.crt --trust ca.pem \
	--at 2099-06-01
grep -q "CN=www.test.*expired at $na" "$WORK/v.json" &&
	ok "expired explanation names the leaf and its not_after" ||
	not_ok "expired explanation names the leaf and its not_after"
"$C" verify www.test.crt --trust ca.pem --at 2099-06-01 >text.out
[ $? -eq 1 ] && grep -q "^class        expired" text.out &&
	ok "text output: exit 1 and class expired" ||
	not_ok "text output: exit 1 and class expired"

# A foreign CA in a second store.
"$C" --store "$WORK/other.db" issue server foreign.test >/dev/null 2>&1
"$C" --store "$WORK/other.db" ca show --pem >other-ca.pem
vclass "foreign leaf against our CA: untrusted" 1 untrusted foreign.test.crt \
	--trust ca.pem --name foreign.test
grep -q "no trust anchor" "$WORK/v.json" &&
	ok "untrusted explanation: no trust anchor" ||
	not_ok "untrusted explanation: no trust anchor"
vclass "our leaf against a foreign CA: untrusted" 1 untrusted www.test.crt \
	--trust other-ca.pem
cat ca.pem other-ca.pem >bundle.pem
vclass "either CA in a bundle: ok" 0 ok foreign.test.crt \
	--trust bundle.pem --name foreign.test

# --- intermediates (made with certtool: certmint has no intermediate CAs) ---
if command -v certtool >/dev/null 2>&1; then
	printf 'cn = "Limbo Root"\nca\ncert_signing_key\nexpiration_days = 3650\n' \
		>root.tmpl
	printf 'cn = "Limbo Intermediate"\nca\ncert_signing_key\nexpiration_days = 3650\n' \
		>int.tmpl
	printf 'cn = "chain.test"\ndns_name = "chain.test"\ntls_www_server\nsigning_key\nexpiration_days = 30\n' \
		>leaf.tmpl
	certtool -p --key-type ecdsa --outfile r.key >/dev/null 2>&1
	certtool -p --key-type ecdsa --outfile i.key >/dev/null 2>&1
	certtool -p --key-type ecdsa --outfile l.key >/dev/null 2>&1
	certtool -s --load-privkey r.key --template root.tmpl \
		--outfile root.pem >/dev/null 2>&1
	certtool -c --load-privkey i.key --load-ca-certificate root.pem \
		--load-ca-privkey r.key --template int.tmpl \
		--outfile int.pem >/dev/null 2>&1
	certtool -c --load-privkey l.key --load-ca-certificate int.pem \
		--load-ca-privkey i.key --template leaf.tmpl \
		--outfile chain-leaf.pem >/dev/null 2>&1
	vclass "leaf without its intermediate: untrusted" 1 untrusted \
		chain-leaf.pem --trust root.pem --name chain.test
	grep -q "Limbo Intermediate" "$WORK/v.json" &&
		ok "explanation names the missing issuer" ||
		not_ok "explanation names the missing issuer"
	vclass "--untrusted intermediate: ok" 0 ok chain-leaf.pem \
		--untrusted int.pem --trust root.pem --name chain.test
	n=$(python3 -c 'import json; print(len(json.load(open("v.json"))["chain"]))')
	is "chain of three: leaf, intermediate, root" "$n" 3
	cat chain-leaf.pem int.pem >fullchain.pem
	vclass "intermediate in the leaf file: ok" 0 ok fullchain.pem \
		--trust root.pem --name chain.test
	vclass "intermediate as trust anchor: ok" 0 ok chain-leaf.pem \
		--trust int.pem --name chain.test
	vclass "chain past every not_after: expired" 1 expired \
		chain-leaf.pem --untrusted int.pem --trust root.pem \
		--at 2099-01-01
	# An intermediate that expires before its leaf.
	printf 'cn = "Short Intermediate"\nca\ncert_signing_key\nexpiration_days = 10\n' \
		>short.tmpl
	certtool -c --load-privkey i.key --load-ca-certificate root.pem \
		--load-ca-privkey r.key --template short.tmpl \
		--outfile short.pem >/dev/null 2>&1
	certtool -c --load-privkey l.key --load-ca-certificate short.pem \
		--load-ca-privkey i.key --template leaf.tmpl \
		--outfile short-leaf.pem >/dev/null 2>&1
	at20=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc)+d.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
	vclass "intermediate expired, leaf not: expired" 1 expired \
		short-leaf.pem --untrusted short.pem --trust root.pem --at "$at20"
	grep -q "expired: 'CN=Short Intermediate' expired at" "$WORK/v.json" &&
		ok "explanation names the expired intermediate" ||
		not_ok "explanation names the expired intermediate"
	vclass "the same chain today: ok" 0 ok short-leaf.pem \
		--untrusted short.pem --trust root.pem --name chain.test
	# A pinned self-signed server certificate, as a TLS peer trusts it.
	printf 'cn = "self.test"\ndns_name = "self.test"\ntls_www_server\nsigning_key\nexpiration_days = 30\n' \
		>self.tmpl
	certtool -s --load-privkey l.key --template self.tmpl \
		--outfile self.pem >/dev/null 2>&1
	vclass "pinned self-signed certificate: ok" 0 ok self.pem \
		--trust self.pem --name self.test
	vclass "self-signed certificate, other anchor: untrusted" 1 untrusted \
		self.pem --trust root.pem --name self.test
else
	ok "intermediates # SKIP certtool not installed"
fi

# --- bad input and usage -----------------------------------------------------
echo "not a certificate" >bad.pem
expect_fail 2 "^certmint: bad.pem: not a certificate" \
	"malformed leaf: exit 2 naming the file" "$C" verify bad.pem --trust ca.pem
printf -- '-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n' \
	>broken.pem
expect_fail 2 "^certmint: broken.pem: not a certificate" \
	"broken PEM trust bundle: exit 2 naming the file" \
	"$C" verify www.test.crt --trust broken.pem
expect_fail 2 "^certmint: bad.pem: not a certificate" \
	"malformed --untrusted: exit 2 naming the file" \
	"$C" verify www.test.crt --trust ca.pem --untrusted bad.pem
expect_fail 2 "^certmint: missing.pem: No such file" \
	"missing leaf: exit 2 naming the file" \
	"$C" verify missing.pem --trust ca.pem
expect_fail 2 "--trust and --ca exclude each other" \
	"--trust with --ca: usage" \
	"$C" verify www.test.crt --trust ca.pem --ca "$ca_name"
expect_fail 2 "time '2026-13-01' is not RFC 3339" \
	"bad --at: usage naming the time" \
	"$C" verify www.test.crt --at 2026-13-01
expect_fail 2 "--at '1969-12-31' is not after 1970" "--at before the epoch" \
	"$C" verify www.test.crt --at 1969-12-31
expect_fail 2 "--purpose 'mail'" "bad --purpose: usage" \
	"$C" verify www.test.crt --purpose mail
expect_fail 2 "give one LEAF" "no leaf: usage" "$C" verify
expect_fail 2 "CA 'nope'" "unknown --ca: exit 2 naming it" \
	"$C" verify www.test.crt --ca nope
head -c 4096 /dev/urandom >junk.db
expect_fail 3 "." "corrupt store: exit 3" \
	"$C" --store "$WORK/junk.db" verify www.test.crt
check "--help" "$C" verify --help

# --- cross-check with openssl verify -x509_strict ----------------------------
if command -v openssl >/dev/null 2>&1; then
	# ov NAME-ARGS...: openssl's verdict as ok/fail.
	ov() {
		openssl verify -x509_strict -purpose sslserver -CAfile "$@" \
			>/dev/null 2>&1 && echo ok || echo fail
	}
	cv() {
		"$C" verify "$@" >/dev/null 2>&1 && echo ok || echo fail
	}
	is "openssl agrees: valid" "$(ov ca.pem www.test.crt)" \
		"$(cv www.test.crt --trust ca.pem)"
	is "openssl agrees: wrong host" \
		"$(ov ca.pem -verify_hostname other.test www.test.crt)" \
		"$(cv www.test.crt --trust ca.pem --name other.test)"
	is "openssl agrees: IP" \
		"$(ov ca.pem -verify_ip 10.0.0.1 www.test.crt)" \
		"$(cv www.test.crt --trust ca.pem --name 10.0.0.1)"
	is "openssl agrees: wrong IP" \
		"$(ov ca.pem -verify_ip 10.0.0.9 www.test.crt)" \
		"$(cv www.test.crt --trust ca.pem --name 10.0.0.9)"
	is "openssl agrees: foreign CA" "$(ov other-ca.pem www.test.crt)" \
		"$(cv www.test.crt --trust other-ca.pem)"
	# 2099-06-01T00:00:00Z
	is "openssl agrees: expired" \
		"$(ov ca.pem -attime 4084128000 www.test.crt)" \
		"$(cv www.test.crt --trust ca.pem --at 2099-06-01)"
	if [ -f self.pem ]; then
		is "openssl agrees: pinned self-signed" \
			"$(ov self.pem -verify_hostname self.test self.pem)" \
			"$(cv self.pem --trust self.pem --name self.test)"
		is "openssl agrees: intermediate" \
			"$(ov root.pem -untrusted int.pem chain-leaf.pem)" \
			"$(cv chain-leaf.pem --trust root.pem --untrusted int.pem)"
	fi
	is "openssl verdicts are not all the same" \
		"$(ov ca.pem www.test.crt)$(ov other-ca.pem www.test.crt)" okfail
else
	ok "openssl cross-check # SKIP openssl not installed"
fi

# --- the store's revocations (a store CA as the anchor) ---------------------
R="$WORK/rev.db"
rv() { CERTMINT_STORE="$R" "$C" "$@"; }
rv issue server gone.test --cert gone.crt --key gone.key >/dev/null 2>&1
root=$(rv ca show --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["name"])')
rv ca show --pem >rev-ca.pem
rv ca create Sub --parent "$root" >/dev/null 2>&1
rv issue server sub.test --ca Sub --cert sub.crt --key sub.key \
	--chain sub.chain >/dev/null 2>&1
before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
rv revoke gone.test --reason keyCompromise >/dev/null 2>&1
CERTMINT_STORE="$R" vclass "a revoked leaf: revoked, exit 1" 1 revoked \
	gone.crt --name gone.test --ca "$root"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert "keyCompromise" in d["explanation"] and "gone.test" in d["failing"], d' \
	"$WORK/v.json" && ok "... names it and the reason" ||
	not_ok "... names it and the reason"
CERTMINT_STORE="$R" vclass "... valid at a time before its revocation" 0 ok \
	gone.crt --name gone.test --at "$before" --ca "$root"
CERTMINT_STORE="$R" vclass "... valid with --trust FILE (no store revocations)" \
	0 ok gone.crt --name gone.test --trust rev-ca.pem
CERTMINT_STORE="$R" vclass "a leaf under a good intermediate: ok" 0 ok \
	sub.crt --name sub.test --ca Sub
rv revoke Sub --reason cACompromise >/dev/null 2>&1
CERTMINT_STORE="$R" vclass "its intermediate revoked: anchored at it, revoked" \
	1 revoked sub.crt --name sub.test --ca Sub
CERTMINT_STORE="$R" vclass "... anchored at the root, revoked" 1 revoked \
	sub.crt --name sub.test --untrusted sub.chain --ca "$root"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert "CN=Sub" in d["failing"] and "cACompromise" in d["explanation"], d' \
	"$WORK/v.json" && ok "... naming the intermediate" ||
	not_ok "... naming the intermediate"

# --ca ROOT of a leaf issued by ROOT's intermediate: the intermediate is
# found in the store (issue 14, item 8: it was called untrusted).
export CERTMINT_STORE="$WORK/inter.db"
check "a root and its intermediate" sh -c \
    '"$0" init --name IRoot >/dev/null && "$0" ca create ISub --parent IRoot >/dev/null' "$C"
check "a leaf of the intermediate" "$C" issue server il.test --ca ISub \
    --cert il.crt --key il.key
is "... its file holds the leaf alone" "$(grep -c BEGIN il.crt)" 1
vclass "verify --ca IRoot finds the intermediate in the store" 0 ok \
    il.crt --ca IRoot
check "... a chain of three" python3 -c '
import json; d = json.load(open("v.json")); assert len(d["chain"]) == 3, d'
vclass "verify --ca ISub: the intermediate is the anchor" 0 ok il.crt --ca ISub
"$C" ca show IRoot --pem >iroot.pem
vclass "verify --trust of the root alone: still untrusted (no store)" 1 \
    untrusted il.crt --trust iroot.pem
if command -v openssl >/dev/null 2>&1; then
	"$C" ca show ISub --pem >isub.pem
	check "openssl agrees with the chain through the intermediate" \
	    openssl verify -x509_strict -CAfile iroot.pem -untrusted isub.pem \
	    il.crt
fi

done_testing
