#!/bin/sh
# layers.sh - lib/'s subsystems call one way (DESIGN.md, "Layout"; issue
# 14, item 12): harness -> revocation -> pki -> store -> core.  For each
# object of a folder, no libcertmint function it calls may be defined in
# a folder above it.  Read from the built objects with nm.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cli/lib.sh"
need nm
need python3
ls "$top_builddir"/lib/core/.libs/*.o >/dev/null 2>&1 ||
	skip_all "no objects under $top_builddir/lib/*/.libs"
python3 - "$top_builddir" >"$WORK/layers" 2>&1 <<'EOF2'
import glob, re, subprocess, sys
rank = {"core": 0, "store": 1, "pki": 2, "revocation": 3, "harness": 4,
        "online": 4}
defs, und = {}, {}
for o in glob.glob(sys.argv[1] + "/lib/*/.libs/libcertmint_internal_la-*.o"):
    d = o.split("/")[-3]
    if d not in rank:
        continue
    f = re.sub(r".*libcertmint_internal_la-", "", o)
    for line in subprocess.run(["nm", o], capture_output=True,
                               text=True).stdout.splitlines():
        p = line.split()
        if len(p) >= 2 and p[-1].startswith("cm_"):
            if p[-2] == "U":
                und.setdefault((d, f), set()).add(p[-1])
            elif p[-2] in "TDBR":
                defs[p[-1]] = (d, f)
print("objects", len(und), "functions", len(defs))
for (d, f), syms in sorted(und.items()):
    for s in sorted(syms):
        if s in defs and rank[defs[s][0]] > rank[d]:
            print("UP %s/%s calls %s of %s/%s" % (d, f, s, *defs[s]))
EOF2
check "the objects were read" grep -q '^objects [1-9]' "$WORK/layers"
check_not "no call runs up a layer (core < store < pki < revocation < harness)" \
    grep -q '^UP ' "$WORK/layers"
diag "$WORK/layers"
done_testing
