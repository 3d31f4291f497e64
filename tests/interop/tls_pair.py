#!/usr/bin/env python3
"""tls_pair.py - a Python ssl server and client, for interop tests.

The server listens on a loopback address (ephemeral port), loads the given
certificate and key, optionally requires a client certificate issued by
--client-ca, and serves exactly one connection per NAME, then exits.  Each
connection it accepts gets one line: "hello <client CN or ->".

For each NAME the client connects to the same address with
server_hostname=NAME (SNI and the hostname check: check_hostname=True,
CERT_REQUIRED, the only trust anchor being --ca), optionally presenting
--client-cert/--client-key, reads the line, and prints one result line:

    NAME ok TLSv1.3 hello CN=...
    NAME hostname-mismatch <OpenSSL's verify message>
    NAME untrusted <OpenSSL's verify message>
    NAME rejected <why the server ended the connection>
    NAME handshake-failed <reason>

Exit status: 0 when every line was printed (whatever the outcomes: the
caller judges them), 2 on usage errors or a setup failure.  Every socket
has a timeout; the whole run is bounded by --timeout seconds per step.
"""

import argparse
import socket
import ssl
import sys
import threading

HOSTNAME_MISMATCH = 62   # X509_V_ERR_HOSTNAME_MISMATCH
IP_MISMATCH = 64         # X509_V_ERR_IP_ADDRESS_MISMATCH


def peer_cn(conn):
    cert = conn.getpeercert()
    if not cert:
        return "-"
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return "CN=" + value
    return "CN?"


def serve(lsock, ctx, count, timeout, log):
    """Accepts count connections, one line each; never raises."""
    for _ in range(count):
        try:
            raw, _addr = lsock.accept()
        except OSError as e:           # timeout: the client gave up
            log.append("accept: %s" % e)
            return
        raw.settimeout(timeout)
        try:
            with ctx.wrap_socket(raw, server_side=True) as conn:
                conn.sendall(("hello %s\n" % peer_cn(conn)).encode())
                try:
                    conn.unwrap()
                except (OSError, ValueError):
                    pass
        except (ssl.SSLError, OSError) as e:
            log.append("server: %s" % e)
            raw.close()


def connect(host, port, name, ctx, timeout):
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return "handshake-failed connect: %s" % e
    try:
        with ctx.wrap_socket(raw, server_hostname=name) as conn:
            version = conn.version()
            # TLS 1.3: a server that refuses our certificate says so only
            # after the client's handshake is done, on the first read.
            try:
                data = b""
                while not data.endswith(b"\n") and len(data) < 4096:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, OSError) as e:
                return "rejected %s" % (getattr(e, "reason", None) or e)
            if not data.endswith(b"\n"):
                return "rejected connection closed without a greeting"
            return "ok %s %s" % (version, data.decode().strip())
    except ssl.SSLCertVerificationError as e:
        kind = ("hostname-mismatch"
                if e.verify_code in (HOSTNAME_MISMATCH, IP_MISMATCH)
                else "untrusted")
        return "%s %s" % (kind, e.verify_message)
    except (ssl.SSLError, OSError) as e:
        return "handshake-failed %s" % (getattr(e, "reason", None) or e)
    finally:
        raw.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert", required=True, help="server certificate")
    ap.add_argument("--key", required=True, help="server key")
    ap.add_argument("--ca", required=True, help="the client's only anchor")
    ap.add_argument("--client-ca", help="require a client certificate "
                    "issued by this CA")
    ap.add_argument("--client-cert")
    ap.add_argument("--client-key")
    ap.add_argument("--host", default="127.0.0.1",
                    choices=("127.0.0.1", "::1"))
    ap.add_argument("--tls12", action="store_true",
                    help="client: TLS 1.2 at most")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("names", nargs="+", metavar="NAME")
    a = ap.parse_args()

    try:
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            sctx.verify_mode = ssl.CERT_REQUIRED
            sctx.load_verify_locations(cafile=a.client_ca)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.check_hostname = True
        cctx.verify_mode = ssl.CERT_REQUIRED
        cctx.load_verify_locations(cafile=a.ca)   # only the dev CA
        if a.tls12:
            cctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if a.client_cert:
            cctx.load_cert_chain(a.client_cert, a.client_key)
    except (ssl.SSLError, OSError) as e:
        print("tls_pair.py: setup: %s" % e, file=sys.stderr)
        return 2

    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.settimeout(a.timeout)
    lsock.bind((a.host, 0))
    lsock.listen(len(a.names))
    port = lsock.getsockname()[1]
    log = []
    server = threading.Thread(target=serve, daemon=True,
                              args=(lsock, sctx, len(a.names), a.timeout,
                                    log))
    server.start()
    for name in a.names:
        print("%s %s" % (name, connect(a.host, port, name, cctx,
                                       a.timeout)), flush=True)
    server.join(a.timeout * 2)
    lsock.close()
    for line in log:
        print("# %s" % line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
