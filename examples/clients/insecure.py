#!/usr/bin/env python3
"""insecure.py ADDR PORT NAME - the seeds' broken client, on purpose.

The seed articles' ssl.wrap_socket(sock, cert_reqs=ssl.CERT_NONE,
ssl_version=ssl.PROTOCOL_SSLv23) written for Python 3.11+: no certificate
check, no hostname check.  "certmint test client" must FAIL it:

    certmint test client -- python3 examples/clients/insecure.py \\
        {addr} {port} {name}
"""
import socket
import ssl
import sys

addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False          # the bug, part 1
ctx.verify_mode = ssl.CERT_NONE     # the bug, part 2
with socket.create_connection((addr, port), timeout=10) as sock:
    with ctx.wrap_socket(sock, server_hostname=name) as tls:
        tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close"
                     "\r\n\r\n" % name).encode())
        print(tls.recv(4096).decode(errors="replace").split("\r\n")[0])
