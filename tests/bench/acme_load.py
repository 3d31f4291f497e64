#!/usr/bin/env python3
"""acme_load.py - the ACME load client of bench-acme.sh.

Usage: acme_load.py DIRECTORY_URL CA_BUNDLE ORDERS CONCURRENCY HTTP01_PORT
                    SUFFIX

Runs the whole RFC 8555 flow ORDERS times for names oN.SUFFIX, CONCURRENCY
at a time, over keep-alive HTTPS connections (one per worker), with one
account: newOrder, the authorization, its http-01 challenge (answered by
this client on 127.0.0.1:HTTP01_PORT), polling until the authorization is
valid, finalize with a P-256 CSR made before the clock starts, polling
until the order is valid, and the certificate download.  A server that
answers at once (certmint serve validates in the background and says
processing; Pebble the same) is polled every 5 ms for both servers alike.

Prints one line of JSON: orders, failures, seconds, orders_per_s, p50_ms,
p99_ms (per order, newOrder to certificate), client_cpu_s.
"""
import base64
import hashlib
import http.client
import http.server
import json
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

directory_url, bundle = sys.argv[1], sys.argv[2]
orders, conc, http01_port = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
suffix = sys.argv[6]
ctx = ssl.create_default_context(cafile=bundle)
ctx.check_hostname = False  # Pebble's test certificate names localhost


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Conn:
    """One keep-alive HTTPS connection and the nonce it was last given."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPSConnection(self.host, self.port, context=ctx,
                                             timeout=30)
        self.nonce = None

    def req(self, method, url, body=None):
        path = urllib.parse.urlsplit(url)
        path = path.path + ("?" + path.query if path.query else "")
        hdrs = {"Content-Type": "application/jose+json"} if body else {}
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=hdrs)
                r = self.c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                if attempt:
                    raise
                self.c.close()
                self.c = http.client.HTTPSConnection(self.host, self.port,
                                                     context=ctx, timeout=30)
        n = r.getheader("Replay-Nonce")
        if n:
            self.nonce = n
        return r.status, r, data


key = ec.generate_private_key(ec.SECP256R1())
pub = key.public_key().public_numbers()
jwk = {"crv": "P-256", "kty": "EC", "x": b64(pub.x.to_bytes(32, "big")),
       "y": b64(pub.y.to_bytes(32, "big"))}
thumb = b64(hashlib.sha256(json.dumps(jwk, sort_keys=True,
                                      separators=(",", ":")).encode()).digest())


def jws(conn, url, payload, kid=None):
    if conn.nonce is None:
        conn.req("HEAD", d["newNonce"])
    prot = {"alg": "ES256", "nonce": conn.nonce, "url": url}
    conn.nonce = None
    if kid:
        prot["kid"] = kid
    else:
        prot["jwk"] = jwk
    p = b64(json.dumps(prot).encode())
    pl = "" if payload is None else b64(json.dumps(payload).encode())
    r, s = decode_dss_signature(key.sign((p + "." + pl).encode(),
                                         ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return json.dumps({"protected": p, "payload": pl, "signature": b64(sig)})


def post(conn, url, payload, kid):
    """A JWS POST; one retry on badNonce (RFC 8555 6.5)."""
    for _ in range(3):
        st, r, data = conn.req("POST", url, jws(conn, url, payload, kid))
        if st == 400 and b"badNonce" in data:
            continue
        return st, r, data
    return st, r, data


answers = {}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        t = self.path.rsplit("/", 1)[-1]
        body = answers.get(t, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", http01_port), H)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()

c0 = Conn(directory_url)
d = json.loads(c0.req("GET", directory_url)[2])
st, r, _ = post(c0, d["newAccount"], {"termsOfServiceAgreed": True}, None)
kid = r.getheader("Location")
if st not in (200, 201) or not kid:
    sys.exit("acme_load: newAccount answered %d" % st)

# The CSRs before the clock starts: key generation is the client's work.
csrs = []
for i in range(orders):
    name = "o%d.%s" % (i, suffix)
    ck = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(name)]), False).sign(
        ck, hashes.SHA256())
    csrs.append((name, b64(csr.public_bytes(serialization.Encoding.DER))))


def poll(conn, url, want, limit=30.0):
    t0 = time.time()
    while time.time() - t0 < limit:
        st, r, data = post(conn, url, None, kid)
        o = json.loads(data)
        if o.get("status") in want:
            return o
        if o.get("status") == "invalid":
            raise RuntimeError("invalid: %s" % data[:200])
        time.sleep(0.005)
    raise RuntimeError("timeout polling " + url)


def one(conn, name, csr):
    st, r, data = post(conn, d["newOrder"], {"identifiers": [
        {"type": "dns", "value": name}]}, kid)
    if st != 201:
        raise RuntimeError("newOrder %d %s" % (st, data[:200]))
    order, ourl = json.loads(data), r.getheader("Location")
    for az in order["authorizations"]:
        a = json.loads(post(conn, az, None, kid)[2])
        if a["status"] != "valid":
            ch = [c for c in a["challenges"] if c["type"] == "http-01"][0]
            answers[ch["token"]] = ch["token"] + "." + thumb
            post(conn, ch["url"], {}, kid)
            poll(conn, az, ("valid",))
    o = poll(conn, ourl, ("ready", "valid"))
    if o["status"] == "ready":
        st, r, data = post(conn, o["finalize"], {"csr": csr}, kid)
        if st != 200:
            raise RuntimeError("finalize %d %s" % (st, data[:200]))
        o = json.loads(data)
        if o["status"] != "valid":
            o = poll(conn, ourl, ("valid",))
    st, r, pem = post(conn, o["certificate"], None, kid)
    if st != 200 or b"BEGIN CERTIFICATE" not in pem:
        raise RuntimeError("certificate %d" % st)


lat, fails, lock = [], [], threading.Lock()
work = list(range(orders))


def worker():
    conn = Conn(directory_url)
    while True:
        with lock:
            if not work:
                return
            i = work.pop(0)
        t = time.time()
        try:
            one(conn, *csrs[i])
            ms = (time.time() - t) * 1000
            with lock:
                lat.append(ms)
        except Exception as e:  # counted, reported, not fatal to the run
            with lock:
                fails.append(str(e)[:400])


cpu0 = time.process_time()
t0 = time.time()
ths = [threading.Thread(target=worker) for _ in range(conc)]
for t in ths:
    t.start()
for t in ths:
    t.join()
wall = time.time() - t0
lat.sort()


def pct(p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p))], 1) if lat else None


print(json.dumps({"orders": len(lat), "failures": len(fails),
                  "first_failure": fails[0] if fails else None,
                  "seconds": round(wall, 3),
                  "orders_per_s": round(len(lat) / wall, 2) if wall else 0,
                  "p50_ms": pct(0.50) or 0, "p99_ms": pct(0.99) or 0,
                  "client_cpu_s": round(time.process_time() - cpu0, 2)}))
