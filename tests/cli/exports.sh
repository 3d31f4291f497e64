#!/bin/sh
# exports.sh - libcertmint.so exports exactly the functions lib/certmint.h
# declares: a function the header gains must be in lib/libcertmint.sym, or
# programs that link the shared library fail to link.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need nm
so=$top_builddir/lib/.libs/libcertmint.so
[ -f "$so" ] || skip_all "$so not built"

# Declarations: a name followed by '(' outside comments and the
# preprocessor; "cm_err (*cm_pass_fn)(" declares a type, not a function.
sed -e 's|/\*.*\*/||g' -e '/\/\*/,/\*\//d' -e '/^#/d' \
    "$top_srcdir/lib/certmint.h" | tr '\n' ' ' |
    grep -oE '[ *]cm_[a-z0-9_]+[ ]*\([^*]' | sed 's/(.*//' | tr -d ' *' |
    sort -u \
    >"$WORK/declared"
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' |
    grep '^cm_' | sort -u >"$WORK/exported"

is "the header declares the public functions" \
    "$(test "$(wc -l <"$WORK/declared")" -gt 50 && echo yes)" yes
comm -23 "$WORK/declared" "$WORK/exported" >"$WORK/missing"
comm -13 "$WORK/declared" "$WORK/exported" >"$WORK/extra"
is "every declared function is exported (lib/libcertmint.sym lacks none)" \
    "$(tr '\n' ' ' <"$WORK/missing")" ""
is "nothing undeclared is exported" "$(tr '\n' ' ' <"$WORK/extra")" ""
done_testing
