#!/bin/sh
# manpages.sh - the manual pages (issue 17, item 1): one per command, each
# in step with its --help (every option --help lists is in the page, every
# option the page documents is in --help), lint-clean, the scenario and
# profile keys all documented, and libcertmint(3)'s example compiles.
. "$top_srcdir/tests/cli/lib.sh"
need python3

MAN="$top_srcdir/man"
CM="$CERTMINT"

# Every command of certmint --help has its page, named in certmint(1).
for c in $("$CM" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
	case $c in help|version) continue ;; esac
	check "certmint-$c(1) exists" test -f "$MAN/certmint-$c.1"
	check "certmint(1) refers to certmint-$c(1)" grep -q "^\.Xr certmint-$c 1" "$MAN/certmint.1"
done

# sync PAGE: the page against the --help of its command and of every
# subcommand it has a .Ss section for.
sync() {
	python3 - "$CM" "$1" <<'PY'
import re, subprocess, sys
cm, page = sys.argv[1], sys.argv[2]
src = open(page).read()
cmd = re.search(r"^\.Nm certmint-(\S+)", src, re.M).group(1)
helps = [[cmd]] + [l.split()[2:] for l in re.findall(r"^\.Ss certmint .*$", src, re.M)
                   if len(l.split()) > 3]
text = ""
for h in helps:
    r = subprocess.run([cm] + h + ["--help"], capture_output=True, text=True)
    if r.returncode != 0:
        print("help of %s failed" % " ".join(h)); sys.exit(1)
    text += r.stdout
opt = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
in_help = set(opt.findall(text))
rendered = subprocess.run(["sh", "-c", "mandoc -Tascii -O width=1000 '%s' 2>/dev/null | col -b || "
                           "groff -mdoc -Tascii '%s' | col -b" % (page, page)],
                          capture_output=True, text=True).stdout
in_page = set(opt.findall(rendered))
items = set(re.findall(r"Fl \\-([a-z][a-z0-9-]*)", src))
bad = sorted(in_help - in_page)
if bad:
    print("in --help, not in the page: " + " ".join("--" + b for b in bad))
extra = sorted(items - in_help)
if extra:
    print("in the page, not in --help: " + " ".join("--" + b for b in extra))
sys.exit(1 if bad or extra else 0)
PY
}
for p in "$MAN"/certmint-*.1; do
	n=$(basename "$p" .1)
	check "$n(1): every option of --help in the page and the reverse" sync "$p"
done

# The scenario format and the profile syntax: every key documented.
keys=$(sed -n '/keys\[K_NKEYS\] = {/,/^};/p' "$top_srcdir/lib/harness/scenario.c" |
    grep -o '"[a-z_]*"' | tr -d '"')
missing=
for k in $keys; do
	grep -q "^\.It Ic $k\$" "$MAN/certmint-scenario.5" || missing="$missing $k"
done
is "certmint-scenario(5) documents every key ($(echo $keys | wc -w))" "$missing" ""
pkeys=$(grep -o '^	{ "[a-z_]*", K_[A-Z]*' "$top_srcdir/lib/pki/profile.c" |
    grep -v K_NAMES | sed 's/.*{ "\([a-z_]*\)".*/\1/')
missing=
for k in $pkeys; do
	grep -Eq "^\.It Ic .*\b$k\b" "$MAN/certmint-profile.5" || missing="$missing $k"
done
is "certmint-profile(5) documents every key ($(echo $pkeys | wc -w))" "$missing" ""

# certmint-profile(5)'s example profile issues what it says.
sed -n '/^# my-server.tmpl/,/^\.Ed/p' "$MAN/certmint-profile.5" | sed '$d' \
    >"$WORK/my-server.tmpl"
if "$CM" issue server api.test --profile "$WORK/my-server.tmpl" \
    --cert "$WORK/api.crt" --key "$WORK/api.key" >/dev/null 2>&1 &&
    command -v openssl >/dev/null 2>&1; then
	openssl x509 -in "$WORK/api.crt" -noout -text >"$WORK/api.txt" 2>&1
	check "the profile example: 365 days, must-staple, serverAuth" sh -c \
	    "grep -q 'TLS Feature' '$WORK/api.txt' && grep -q 'TLS Web Server Authentication' '$WORK/api.txt' && [ \$(( (\$(date -d \"\$(openssl x509 -in '$WORK/api.crt' -noout -enddate | cut -d= -f2)\" +%s) - \$(date +%s)) / 86400 )) -ge 363 ]"
else
	not_ok "the profile example of certmint-profile(5) issues"
fi

# Lint: nothing at warning level or above.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -W warning "$MAN"/*.[135] >"$WORK/lint" 2>&1
	check "mandoc -Tlint -W warning: no message" test ! -s "$WORK/lint"
	diag "$WORK/lint"
else
	groff -ww -z -mdoc "$MAN"/*.[135] >"$WORK/lint" 2>&1
	check "groff -ww -z: no message" test ! -s "$WORK/lint"
	diag "$WORK/lint"
fi

# libcertmint(3)'s example compiles against the header.
sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$MAN/libcertmint.3" |
    sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed '1d;$d' | sed 's/\\e/\\/g' \
    >"$WORK/example.c"
check "libcertmint(3): the example compiles" \
    ${CC:-cc} -fsyntax-only -Wall -Werror -I"$top_srcdir/lib" "$WORK/example.c"

done_testing
