#!/usr/bin/env python3
"""secure.py ADDR PORT NAME CAFILE [CERT KEY] - a client that verifies.

    certmint test client -- python3 examples/clients/secure.py \\
        {addr} {port} {name} {ca}
"""
import socket
import ssl
import sys

addr, port, name, cafile = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                            sys.argv[4])
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = True
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
if len(sys.argv) > 6:  # mutual TLS
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
try:
    with socket.create_connection((addr, port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=name) as tls:
            tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: "
                         "close\r\n\r\n" % name).encode())
            print(tls.recv(4096).decode(errors="replace")
                  .split("\r\n")[0])
except (ssl.SSLError, ssl.CertificateError, OSError) as e:
    print("secure.py: %s" % e, file=sys.stderr)
    sys.exit(1)
