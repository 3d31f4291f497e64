#!/bin/sh
# harness-interop.sh - certmint test --interop: every standard scenario
# with one side replaced by openssl, python3 ssl, gnutls-cli and curl must
# give the class of the GnuTLS pair, or be an accepted alternative that the
# report explains.  A missing tool is reported as skipped, never as passed.
. "$top_srcdir/tests/cli/lib.sh"
need python3
need openssl

# The pyenv shim costs 0.2 s per start; a plain interpreter will do.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ssl' 2>/dev/null; then
	CERTMINT_PYTHON=/usr/bin/python3
	export CERTMINT_PYTHON
fi

C=$CERTMINT
cd "$WORK" || exit 1
"$C" issue server localhost 127.0.0.1 ::1 >/dev/null 2>&1
"$C" issue client alice@example.test >/dev/null 2>&1

compare='
import json, sys
d = json.load(open(sys.argv[1]))
base, peers = {}, {}
for s in d["scenarios"]:
    if "@" in s["name"]:
        n, p = s["name"].split("@")
        peers.setdefault(p, {})[n] = s
    else:
        base[s["name"]] = s
bad = []
for p, rs in sorted(peers.items()):
    assert set(rs) == set(base), p
    for n, s in sorted(rs.items()):
        if s["skipped"]:
            assert not s["match"]
            if "GnuTLS pair only" in (s["detail"] or ""):
                continue        # revocation scenarios: GnuTLS ends only
            if p.startswith(("openssl", "python")):
                bad.append("%s@%s skipped" % (n, p))
            continue
        b = base[n]["actual"]
        if s["actual"] == b:
            continue
        if s["match"] and "accepted alternative" in (s["detail"] or ""):
            print("# %s@%s: %s (gnutls pair: %s): %s" % (n, p,
                s["actual"], b, s["detail"]))
            continue
        bad.append("%s@%s: %s, gnutls pair %s" % (n, p, s["actual"], b))
print("# %d peers x %d scenarios compared" % (len(peers), len(base)))
for b in bad:
    print("# DIFFERENT: " + b)
sys.exit(1 if bad else 0)
'

"$C" test --cert localhost --interop --only tls13/ --format json >"$WORK/s.json"
is "server certificate, TLS 1.3, --interop: exit 0" "$?" "0"
python3 -c "$compare" "$WORK/s.json" >"$WORK/cmp" 2>&1
is "server certificate: same class as the GnuTLS pair" "$?" "0"
cat "$WORK/cmp"

# Issue 13 item 7: the CRL scenarios ran with the GnuTLS pair only (72 of
# 385 skipped); now each tool client loads the CA's CRL from a file and must
# refuse the revoked leaf (revoked) and take the good one (ok).
check "CRL scenarios run with openssl, python, curl and gnutls-cli" \
    python3 -c '
import json, sys
rs = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
for p in ("openssl-client", "python-client", "curl-client",
          "gnutls-cli-client", "openssl-server", "python-server"):
    for n, want in (("tls13/revoked-crl", "revoked"), ("tls13/good-crl", "ok")):
        s = rs[n + "@" + p]
        if p in ("curl-client", "gnutls-cli-client") and \
                s["detail"] == "not installed":
            continue
        assert not s["skipped"] and s["match"], (n, p, s)
        assert s["actual"] == want, (n, p, s["actual"])
s = rs["tls13/revoked-ocsp-staple@openssl-client"]
assert s["skipped"] and "staple" in s["detail"], s' "$WORK/s.json"

"$C" test --cert localhost --interop --only tls12/ --format json >"$WORK/s12.json"
is "server certificate, TLS 1.2, --interop: exit 0" "$?" "0"
python3 -c "$compare" "$WORK/s12.json" >"$WORK/cmp" 2>&1
is "server certificate TLS 1.2: same class as the GnuTLS pair" "$?" "0"
cat "$WORK/cmp"

"$C" test --cert alice@example.test --interop --format json >"$WORK/c.json"
is "client certificate --interop: exit 0" "$?" "0"
python3 -c "$compare" "$WORK/c.json" >"$WORK/cmp" 2>&1
is "client certificate: same class as the GnuTLS pair" "$?" "0"
cat "$WORK/cmp"

check "openssl and python played both sides" python3 -c '
import json, sys
names = {s["peer"] for s in json.load(open(sys.argv[1]))["scenarios"]}
for p in ("openssl-client", "openssl-server", "python-client",
          "python-server", "gnutls"):
    assert p in names, (p, names)' "$WORK/c.json"

# A tool that is not there is skipped, never passed.
# An empty PATH: the libtool wrapper needs sed and friends, so run the
# real binary when there is one.
mkdir "$WORK/emptybin"
REAL=$C
if [ -x "$top_builddir/cmd/.libs/certmint" ]; then
	REAL=$top_builddir/cmd/.libs/certmint
	LD_LIBRARY_PATH=$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi
PATH="$WORK/emptybin" "$REAL" test --cert localhost --peer curl \
    --only tls13/name:localhost --format json >"$WORK/skip.json"
is "missing curl: exit 0 (nothing mismatched)" "$?" "0"
check "missing curl is reported as skipped, not matched" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["scenarios"][0]
assert s["skipped"] and not s["match"] and s["detail"] == "not installed"
assert d["summary"]["skipped"] == 1 and d["summary"]["matched"] == 0
' "$WORK/skip.json"
PATH="$WORK/emptybin" "$REAL" test --cert localhost --peer curl \
    --only tls13/name:localhost --format tap >"$WORK/skip.tap"
grep -q "^ok 1 - tls13/name:localhost@curl-client # SKIP not installed" \
    "$WORK/skip.tap" && ok "TAP marks the missing tool as skipped" ||
    not_ok "TAP marks the missing tool as skipped"
done_testing
