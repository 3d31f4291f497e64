#!/usr/bin/env python3
"""Issue-2 benchmark: per-certificate wall time, alternating tools.

usage: bench_issue.py WORKDIR ROUNDS CERTMINT [CEILING_CERTS_PER_S BATCH_N]

Per round, each tool issues one P-256 server certificate signed by its own
P-256 CA made beforehand, in turn (certmint, openssl, certtool, mkcert), so
that the noise of a shared machine falls on all alike; times are medians.
certmint's figure includes the store insert and the files.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time


def run(argv, cwd, env=None):
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("bench: %s failed: %s" % (argv[0], r.stderr.decode()[:400]))


def main():
    work, rounds, certmint = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    env = dict(os.environ)
    env["CERTMINT_STORE"] = os.path.join(work, "store.db")
    env["CAROOT"] = os.path.join(work, "mkcert-ca")
    run([certmint, "init"], work, env)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ossl-ca.key",
         "-out", "ossl-ca.crt", "-subj", "/CN=bench CA", "-days", "30"], work)
    with open(os.path.join(work, "leaf.tmpl"), "w") as f:
        f.write("cn = h.test\ndns_name = h.test\ntls_www_server\n"
                "signing_key\nexpiration_days = 397\n")
    run(["certtool", "--generate-privkey", "--key-type", "ecdsa",
         "--outfile", "ct-ca.key"], work)
    with open(os.path.join(work, "ca.tmpl"), "w") as f:
        f.write("cn = bench CA\nca\ncert_signing_key\nexpiration_days = 30\n")
    run(["certtool", "--generate-self-signed", "--load-privkey", "ct-ca.key",
         "--template", "ca.tmpl", "--outfile", "ct-ca.crt"], work)

    tools = {
        "certmint": lambda i: [[certmint, "issue", "server", "h%d.test" % i]],
        "openssl": lambda i: [["openssl", "req", "-x509", "-newkey", "ec",
                               "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-keyout", "o%d.key" % i, "-out", "o%d.crt" % i,
                               "-subj", "/CN=h%d.test" % i, "-CA",
                               "ossl-ca.crt", "-CAkey", "ossl-ca.key",
                               "-days", "397", "-addext",
                               "subjectAltName=DNS:h%d.test" % i]],
        "certtool": lambda i: [["certtool", "--generate-privkey", "--key-type",
                                "ecdsa", "--outfile", "t%d.key" % i],
                               ["certtool", "--generate-certificate",
                                "--load-privkey", "t%d.key" % i,
                                "--load-ca-certificate", "ct-ca.crt",
                                "--load-ca-privkey", "ct-ca.key",
                                "--template", "leaf.tmpl",
                                "--outfile", "t%d.crt" % i]],
    }
    if shutil.which("mkcert"):
        run(["mkcert", "-install"], work, dict(env, TRUST_STORES="none"))
        tools["mkcert"] = lambda i: [["mkcert", "-ecdsa", "-cert-file",
                                      "m%d.crt" % i, "-key-file",
                                      "m%d.key" % i, "h%d.test" % i]]
    else:
        print("mkcert: not installed, skipped")
    times = {name: [] for name in tools}
    for i in range(rounds):
        for name, steps in tools.items():
            t0 = time.perf_counter()
            for argv in steps(i):
                run(argv, work, env)
            times[name].append((time.perf_counter() - t0) * 1000)
    med = {}
    for name, t in times.items():
        med[name] = statistics.median(t)
        print("%-9s per certificate: median %6.2f ms, mean %6.2f ms (%d)"
              % (name, med[name], statistics.mean(t), len(t)))
    for other in ("openssl", "certtool", "mkcert"):
        if other in med:
            print("ratio certmint/%s: %.2f (target vs openssl: <= 1.00, shared libraries)"
                  % (other, med["certmint"] / med[other]))

    if len(sys.argv) > 5:
        ceiling, n = float(sys.argv[4]), int(sys.argv[5])
        bdir = os.path.join(work, "batch")
        os.mkdir(bdir)
        with open(os.path.join(work, "batch.txt"), "w") as f:
            for i in range(n):
                f.write("server b%d.test\n" % i)
        benv = dict(env, CERTMINT_STORE=os.path.join(work, "batch.db"))
        run([certmint, "init"], work, benv)
        t0 = time.perf_counter()
        run([certmint, "issue", "--batch", "batch.txt", "--out-dir", bdir],
            work, benv)
        dt = time.perf_counter() - t0
        print("batch: %d certificates in %.2f s = %.0f/s (store and files "
              "included)" % (n, dt, n / dt))
        print("in-process ceiling (1 core): %.0f/s" % ceiling)
        print("ratio batch/ceiling: %.2f (target >= 0.50)"
              % (n / dt / ceiling))


if __name__ == "__main__":
    main()
