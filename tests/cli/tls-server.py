#!/usr/bin/env python3
"""A Python ssl echo server on 127.0.0.1 for test server: the software
under test.  Usage: tls-server.py CERT KEY CA MODE PORTFILE [SECONDS]
MODE: required | optional | none (ssl.CERT_*).  With CERTMINT_TEST_CRL
set, it checks client certificates against that CRL file.  It prints its port to
PORTFILE, answers each line with the same line, and exits after SECONDS
(default 120) without a client: bounded."""
import os
import socket
import ssl
import sys
import threading
import time

cert, key, ca, mode, portfile = sys.argv[1:6]
life = float(sys.argv[6]) if len(sys.argv) > 6 else 120.0

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
# Forward-secret AEAD suites only under TLS 1.2, said here rather than
# left to the OpenSSL build's defaults: Debian's python3 otherwise takes
# a CBC/SHA-1-only client, pyenv's build does not.
ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
if os.environ.get("CERTMINT_TEST_CRL"):
    ctx.load_verify_locations(os.environ["CERTMINT_TEST_CRL"])
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
ctx.verify_mode = {"required": ssl.CERT_REQUIRED,
                   "optional": ssl.CERT_OPTIONAL,
                   "none": ssl.CERT_NONE}[mode]

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
deadline = time.time() + life


def serve(conn):
    conn.settimeout(5)
    try:
        s = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()
        return
    try:
        data = s.recv(4096)
        if data:
            s.sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        try:
            s.close()
        except OSError:
            pass


ls.settimeout(1)
while time.time() < deadline:
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        continue
    deadline = max(deadline, time.time() + 30)
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
