#!/bin/sh
# banned.sh - no banned C library calls in lib/ or cmd/ (STYLE.md): each one
# has a bounded or reentrant replacement (snprintf, strtok_r, gmtime_r, ...).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"

# calls FN FILE...: prints FILE:LINE: for each call of FN: the name as a
# whole word (not snprintf, strtok_r, gmtime_r, my_system, s->system)
# followed by '('.  // and one-line /* */ comments are stripped first so a
# comment saying "not sprintf()" does not count.
calls() {
	_fn=$1; shift
	for _f in "$@"; do
		sed -e 's://.*$::' -e 's:/\*.*\*/::g' "$_f" |
		    grep -nE "(^|[^A-Za-z0-9_.>])$_fn[[:space:]]*\(" |
		    sed "s|^|$_f:|"
	done
}

files=$(find "$top_srcdir/lib" "$top_srcdir/cmd" -name '*.[ch]' | sort)
[ -n "$files" ] || skip_all "no sources under $top_srcdir"

for fn in sprintf strcpy strcat gets atoi strtok gmtime localtime system \
    tmpnam; do
	# shellcheck disable=SC2086
	hits=$(calls "$fn" $files)
	if [ -z "$hits" ]; then
		ok "no $fn() in lib/ or cmd/"
	else
		not_ok "no $fn() in lib/ or cmd/"
		echo "$hits" | sed 's/^/# /'
	fi
done

# The check must see a planted call, or it proves nothing; and it must not
# flag the allowed forms.
cat >"$WORK/planted.c" <<'C'
int f(char *b) { return sprintf(b, "x"); }
char *g(char *s, char **p) { return strtok (s, " "); }
C
cat >"$WORK/clean.c" <<'C'
/* not sprintf(b, "x") */
int f(char *b) { return snprintf(b, 1, "y"); } // not sprintf()
char *g(char *s, char **p) { return strtok_r(s, " ", p); }
int h(struct x *o) { gmtime_r(0, 0); return o->system(1) + my_atoi("1"); }
C
is "the pattern finds a planted sprintf(" \
    "$(calls sprintf "$WORK/planted.c" | wc -l)" 1
is "the pattern finds a planted strtok (" \
    "$(calls strtok "$WORK/planted.c" | wc -l)" 1
for fn in sprintf strtok gmtime system atoi; do
	is "the pattern ignores the allowed forms of $fn" \
	    "$(calls "$fn" "$WORK/clean.c")" ""
done
done_testing
