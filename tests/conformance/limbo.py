#!/usr/bin/env python3
"""Runs `certmint verify` over the x509-limbo cases and compares each verdict
with GnuTLS 3.7.9 certtool's (certtool-3.7.9-results.json), not with the
suite's expected_result: certmint verifies with GnuTLS, so where certtool
diverges from the suite, certmint must diverge the same way.

Prints TAP: one line per case, `ok # SKIP reason` for a case certmint
cannot express.  A disagreement passes only when listed with its reason in
the disagreements file; a listed case that agrees again fails, so the list
stays true.

usage: limbo.py CERTMINT DATA_DIR DISAGREEMENTS_FILE
"""
import json
import os
import subprocess
import sys
import tempfile

# GnuTLS's own default maximum verification depth: a limit at or above it
# changes nothing, so it is expressible (as no flag at all).
GNUTLS_MAX_DEPTH = 16

# Cases without a validation time were run by certtool at "now"; the
# online:: ones carry real, expiring certificates.  Pin them to a day on
# which certmint and certtool were seen to agree, so the test does not
# change with the date (the synthetic certificates run 1970-2969).
PINNED_TIME = "2026-11-22T00:00:00Z"

# Under LeakSanitizer, a known GnuTLS leak on hostile input is not ours.
ENV = dict(os.environ)
ENV["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "lsan-gnutls.supp")


def load_disagreements(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            case_id, sep, why = line.partition(" ")
            if not sep or not why.strip():
                sys.exit(f"{path}:{lineno}: want '<id> <reason>'")
            out[case_id] = why.strip()
    return out


def unexpressible(case, baseline):
    """The reason certmint verify cannot run this case, or None."""
    if case["validation_kind"] != "SERVER":
        return "CLIENT case (SERVER cases only)"
    if baseline is None:
        return "no certtool baseline"
    if baseline["actual_result"] == "SKIPPED":
        return "certtool baseline skipped: " + baseline["context"]
    if case.get("crls"):
        return "needs CRLs"
    depth = case.get("max_chain_depth")
    if depth is not None and depth < GNUTLS_MAX_DEPTH:
        return f"needs max_chain_depth {depth}"
    if case.get("key_usage"):
        return "needs an expected key usage " + ",".join(case["key_usage"])
    if case.get("signature_algorithms"):
        return "needs a signature algorithm policy"
    eku = case.get("extended_key_usage") or []
    if eku not in ([], ["serverAuth"]):
        return "needs EKU " + ",".join(eku)
    if case.get("expected_peer_names"):
        return "needs several expected peer names"
    name = case.get("expected_peer_name")
    if name is not None and name["kind"] not in ("DNS", "IP"):
        return "needs a peer name of kind " + name["kind"]
    return None


def write(path, pems):
    with open(path, "w", encoding="ascii") as f:
        for pem in pems:
            f.write(pem.strip() + "\n")


def one_line(text, limit=200):
    return " ".join(text.split())[:limit]


def run_case(certmint, case, tmp):
    leaf = os.path.join(tmp, "leaf.pem")
    trust = os.path.join(tmp, "trust.pem")
    write(leaf, [case["peer_certificate"]])
    write(trust, case["trusted_certs"])
    argv = [certmint, "verify", leaf, "--trust", trust, "--json"]
    if case["untrusted_intermediates"]:
        untrusted = os.path.join(tmp, "untrusted.pem")
        write(untrusted, case["untrusted_intermediates"])
        argv += ["--untrusted", untrusted]
    name = case.get("expected_peer_name")
    if name is not None:
        argv += ["--name", name["value"]]
    # No EKU asked for: certtool was not asked to check a purpose either.
    argv += ["--purpose",
             "server" if case.get("extended_key_usage") else "any"]
    argv += ["--at", case.get("validation_time") or PINNED_TIME]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       check=False, env=ENV)
    if p.returncode == 0:
        return "SUCCESS", "ok"
    if p.returncode == 1:
        try:
            return "FAILURE", json.loads(p.stdout)["class"]
        except (ValueError, KeyError):
            return "ERROR", "exit 1 without JSON: " + one_line(p.stdout)
    if p.returncode == 2:
        # Input GnuTLS cannot parse: no valid chain, as for certtool.
        return "FAILURE", "input rejected: " + one_line(p.stderr, 160)
    return "ERROR", f"exit {p.returncode}: {one_line(p.stderr)}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    certmint, data, dis_path = sys.argv[1:]
    with open(os.path.join(data, "limbo.json"), encoding="utf-8") as f:
        cases = json.load(f)["testcases"]
    with open(os.path.join(data, "certtool-3.7.9-results.json"),
              encoding="utf-8") as f:
        baseline = {r["id"]: r for r in json.load(f)["results"]}
    listed = load_disagreements(dis_path)
    seen = set()
    n = failed = 0
    with tempfile.TemporaryDirectory(prefix="limbo-") as tmp:
        for case in cases:
            n += 1
            cid = case["id"]
            base = baseline.get(cid)
            why = unexpressible(case, base)
            if why is not None:
                print(f"ok {n} - {cid} # SKIP {why}")
                continue
            verdict, detail = run_case(certmint, case, tmp)
            want = base["actual_result"]
            if verdict == want:
                if cid in listed:
                    seen.add(cid)
                    failed += 1
                    print(f"not ok {n} - {cid}: agrees with certtool "
                          f"({want}) but is listed as a disagreement")
                else:
                    print(f"ok {n} - {cid}: {verdict} ({detail})")
            elif cid in listed and verdict != "ERROR":
                seen.add(cid)
                print(f"ok {n} - {cid}: {verdict} ({detail}), certtool "
                      f"{want}: listed: {listed[cid]}")
            else:
                failed += 1
                print(f"not ok {n} - {cid}: certmint {verdict} ({detail}),"
                      f" certtool {want}: not in {os.path.basename(dis_path)}")
    for cid in sorted(set(listed) - seen):
        n += 1
        print(f"ok {n} - listed disagreement {cid} was not run # SKIP "
              "not expressible here")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
