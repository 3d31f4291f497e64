#!/usr/bin/env python3
"""keys_tls_server.py CERT KEY PORTFILE SECONDS

A small HTTPS server on 127.0.0.1 for the keys interop tests (Java,
Chromium): serves "certmint-keys-ok" on every path, writes the port it got
to PORTFILE, and stops by itself after SECONDS.
"""
import http.server
import ssl
import sys
import threading

BODY = b"<html><body><p id='r'>certmint-keys-ok</p></body></html>\n"


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Handshake failures are expected in the negative checks.
        pass


def main():
    cert, key, portfile, seconds = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    timer = threading.Timer(float(seconds), srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
