#!/bin/sh
# html-report.sh - --format html of test, test client and test server
# (issue 17, item 3): one self-contained page (no script, no stylesheet or
# font from elsewhere, nothing fetched), mismatches first, well formed;
# headless Chromium renders it with no network and no console error.
. "$top_srcdir/tests/cli/lib.sh"
need python3

CM="$CERTMINT"
cd "$WORK" || exit 1
"$CM" issue server localhost 127.0.0.1 >/dev/null 2>&1 &&
"$CM" ca show --pem >ca.pem || { echo "Bail out! setup"; exit 1; }

# page FILE: parses; prints "ROWS FIRSTCLASS EXTERNAL" (the rows of the
# grid, the state of the first row's worst cell, references to anything
# outside the page).
page() {
	python3 - "$1" <<'PY'
import html.parser, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []; self.cur = None; self.ext = 0; self.stack = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.ext += 1
        for k in ("src", "href", "action"):
            if k in a:
                self.ext += 1
        if tag == "tr":
            self.cur = []
        if tag == "td" and self.cur is not None:
            self.cur.append(a.get("class", ""))
    def handle_endtag(self, tag):
        if tag == "tr" and self.cur is not None:
            if self.cur:
                self.rows.append(self.cur)
            self.cur = None
p = P(); p.feed(text); p.close()
ext = p.ext + len(re.findall(r"url\(|@import|https?://", text))
first = "none"
if p.rows:
    r = p.rows[0]
    first = "wrong" if "wrong" in r else "warn" if "warn" in r else r[0] or "none"
print(len(p.rows), first, ext)
PY
}

"$CM" test --cert localhost --format html >m.html
is "test --format html: exit 0" "$?" 0
set -- $(page m.html)
check "a grid of the matrix (>= 20 rows)" test "$1" -ge 20
is "nothing outside the page" "$3" 0
check "the certmint version and time in the footer" \
    grep -Eq "<footer>certmint [0-9.]+, 20[0-9-]+T" m.html

# Mismatches first: a scenario file with a wrong expectation last.
cat >mix.scn <<SCN
[defaults]
server_cert = cert:localhost
trust = ca:certmint dev CA
[scenario right-1]
name = localhost
expect = ok
[scenario right-2]
name = other.test
expect = hostname
[scenario <script>alert(1)</script>]
name = localhost
expect = ok
[scenario wrong-last]
name = localhost
expect = expired
SCN
"$CM" test mix.scn --format html >mix.html
is "a mismatch: exit 1" "$?" 1
set -- $(page mix.html)
is "the mismatch is the first row" "$2" wrong
check "... and it is wrong-last" sh -c \
    "sed -n '/<tbody>/{n;p;q}' mix.html | grep -q '>wrong-last<'"
"$CM" test client --format html -- curl -k -sS --max-time 8 \
    --resolve {name}:{port}:{addr} {url} >c.html
is "test client --format html, curl -k: exit 1" "$?" 1
set -- $(page c.html)
is "test client: the wrong rows first" "$2" wrong
is "test client: nothing outside the page" "$3" 0

check "a name with markup is text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' mix.html
check_not "... never markup" grep -q '<script' mix.html

# test server against a Python server.
rm -f port
python3 "$top_srcdir/tests/cli/tls-server.py" localhost.crt localhost.key \
    ca.pem none port 60 &
SP=$!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$CM" test server "127.0.0.1:$(cat port)" --name localhost --format html >s.html
is "test server --format html: exit 0" "$?" 0
set -- $(page s.html)
check "test server: a grid (>= 5 rows)" test "$1" -ge 5
kill $SP 2>/dev/null

# Chromium, without a network: renders, asks for nothing, no console error.
CHROME=$(command -v chromium || command -v chromium-browser || true)
ns=
for u in "unshare -n" "unshare -rn"; do
	if $u true 2>/dev/null; then ns=$u; break; fi
done
if [ -n "$CHROME" ]; then
	$ns timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu \
	    --hide-scrollbars --window-size=1400,900 --enable-logging=stderr \
	    --v=0 --screenshot="$WORK/m.png" "file://$WORK/m.html" \
	    >chrome.out 2>chrome.err
	check "Chromium rendered the page to a PNG" sh -c \
	    "test -s '$WORK/m.png' && head -c 8 '$WORK/m.png' | od -An -c | grep -q 'P   N   G'"
	check_not "no console message from the page" grep -q "CONSOLE" chrome.err
	check_not "no failed request" grep -Eq "net::ERR_|Failed to load resource" chrome.err
else
	echo "# chromium not installed: the rendering checks skipped"
fi

done_testing
