#!/bin/sh
# escapes.sh - what a certificate or an argument says reaches the terminal
# escaped (issue 14, item 3): a CN of ESC ] 0 ; ... BEL ESC [ 2 J retitled
# and cleared the user's terminal through verify and show.  Controls, DEL
# and octets that are not UTF-8 show as \xNN, a backslash as \\; printable
# UTF-8 (é, 日本) stays as it is.
. "$top_srcdir/tests/cli/lib.sh"
need python3
python3 -c 'import cryptography' 2>/dev/null ||
	skip_all "python3 cryptography not installed"

cd "$WORK" || exit 1
C=$CERTMINT
ESC=$(printf '\033')
BEL=$(printf '\007')

# clean DESC FILE: FILE holds no ESC, BEL or 0x80-0xff octet that is not
# part of valid UTF-8, and shows the escapes.
clean() {
	if python3 - "$2" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
b.decode("utf-8")                      # raises on invalid UTF-8
assert b"\x1b" not in b and b"\x07" not in b, b
assert b"\\x1b]0" in b and b"\\x07" in b, b
PY
	then ok "$1"; else not_ok "$1"; diag "$2"; fi
}

check "a CA and a leaf with escape sequences in their CNs" \
	python3 "$top_srcdir/tests/cli/evilcert.py"

# --- verify -----------------------------------------------------------------
"$C" verify evil.der --trust ca.crt --at 2025-06-01 >v.out 2>&1
is "verify: the leaf is valid" "$?" 0
clean "verify: no ESC or BEL reaches the terminal" v.out
check "... octets that are not UTF-8 shown as \\xNN" \
	grep -qF -e '\xff\x80\x9b\xc0\xaf\xed\xa0\x80' v.out
check "... printable UTF-8 kept (café 日本)" grep -qF 'café 日本' v.out
check "... a backslash shown as \\\\ (the DN's '\\;')" \
	grep -qF -e ']0\\;pwned' v.out
"$C" verify evil.der --trust ca.crt --at 2025-06-01 --json >v.json
check "verify --json: the subject as it is (JSON escapes it)" python3 -c '
import json, sys
d = json.load(open("v.json"))
assert "\x1b]0\\;pwned\x07" in d["chain"][0], d["chain"]' 

# A file name is shown escaped too, in the one line of the error.
expect_fail 2 "^certmint: .*x\\\\x1b\\[2Jy" \
	"verify: a missing file's name escaped, one line" \
	"$C" verify "x${ESC}[2Jy" --trust ca.crt
check "... no ESC in it" sh -c '! grep -q "$0" err' "$ESC"

# --- certmint refuses such names itself -------------------------------------
expect_fail 2 "^certmint: name 'a\\?\\]0;x\\?b' has a space, control" \
	"issue: a name with an escape sequence is refused" \
	"$C" issue server "a${ESC}]0;x${BEL}b"
check "a store" "$C" init --name plain
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout r.key -subj "/CN=a${ESC}]0;x${BEL}b" \
	-addext "subjectAltName=DNS:ok.test" -out r.csr 2>/dev/null
check "sign: a CSR whose CN is an escape sequence" \
	"$C" sign r.csr --profile server --ca plain
check "... leaves that CN out of the certificate" sh -c \
	'openssl x509 -in r.crt -noout -subject | grep -q "CN *= *ok.test"'

# --- store listings: a CA and a certificate adopted as they are ---------------
expect_fail 2 "^certmint: CA name 'Evil \\\\x1b\\]0.* has a control character$" \
	"import: the CN as CA name is refused, quoted escaped" \
	"$C" import --cert ca.crt --key ca.key
check "import --name evil adopts the CA" \
	"$C" import --cert ca.crt --key ca.key --name evil
check "import --issued adds the leaf" "$C" import --issued evil.der --ca evil
cp "$WORK/out" i.out
clean "import --issued: no ESC or BEL in what it prints" i.out
"$C" status >st.out 2>&1
check_not "status: no ESC or BEL" grep -q "$(printf '[\033\007]')" st.out
"$C" list >l.out 2>&1
clean "list: no ESC or BEL" l.out
"$C" list --names >ln.out 2>&1
clean "list --names: no ESC or BEL" ln.out
check "... printable UTF-8 kept" grep -qF 'café 日本' l.out
"$C" show 02 >s.out 2>&1
clean "show: no ESC or BEL" s.out
check "... subject shown, octets that are not UTF-8 as \\xNN" \
	grep -qF -e 'subject      CN=\x1b]0\\;pwned\x07\x1b[2J café 日本 \xff\x80' s.out
"$C" ca show evil >c.out 2>&1
clean "ca show: no ESC or BEL" c.out
"$C" revoke 02 --reason keyCompromise >r.out 2>&1
clean "revoke: no ESC or BEL" r.out
"$C" list --status revoked >l.out 2>&1
clean "list --status revoked: no ESC or BEL" l.out
done_testing
