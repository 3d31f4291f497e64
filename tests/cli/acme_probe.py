#!/usr/bin/env python3
"""ACME requests against certmint serve, good and hostile (test helper).
Usage: acme_probe.py DIRECTORY_URL CA_BUNDLE CASE
Prints one line: "STATUS TYPE" (TYPE is the problem type's last part, or
"-" for a success), for the case's last request."""
import base64, json, ssl, sys, urllib.request
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

directory_url, bundle, case = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=bundle)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def call(method, url, body=None, ctype="application/jose+json"):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


d = json.loads(call("GET", directory_url)[2])


def nonce():
    return call("HEAD", d["newNonce"])[1]["Replay-Nonce"]


class Key:
    def __init__(self, kind="ec"):
        self.kind = kind
        if kind == "ec":
            self.k = ec.generate_private_key(ec.SECP256R1())
            n = self.k.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256",
                        "x": b64(n.x.to_bytes(32, "big")),
                        "y": b64(n.y.to_bytes(32, "big"))}
            self.alg = "ES256"
        elif kind.startswith("rsa"):
            self.k = rsa.generate_private_key(65537, int(kind[3:]))
            n = self.k.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                        "e": b64(n.e.to_bytes(3, "big"))}
            self.alg = "RS256"
        else:
            self.k = ed25519.Ed25519PrivateKey.generate()
            raw = self.k.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
            self.alg = "EdDSA"

    def sign(self, data):
        if self.kind == "ec":
            r, s = decode_dss_signature(self.k.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if self.kind.startswith("rsa"):
            return self.k.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.k.sign(data)


def jws(key, url, payload, kid=None, alg=None, n=None, sig=None):
    prot = {"alg": alg or key.alg, "nonce": n or nonce(), "url": url}
    if kid:
        prot["kid"] = kid
    else:
        prot["jwk"] = key.jwk
    p = b64(json.dumps(prot).encode())
    pl = "" if payload is None else b64(json.dumps(payload).encode())
    s = sig if sig is not None else key.sign((p + "." + pl).encode())
    return json.dumps({"protected": p, "payload": pl, "signature": b64(s)}).encode()


def answer(key, ch, kid):
    """Starts a challenge (POST {}), then polls it (POST-as-GET, 10 s at
    most) while it is pending or processing; its last answer."""
    import time
    st, h, body = call("POST", ch["url"], jws(key, ch["url"], {}, kid=kid))
    for _ in range(200):
        if st != 200 or json.loads(body).get("status") not in ("pending", "processing"):
            break
        time.sleep(0.05)
        st, h, body = call("POST", ch["url"], jws(key, ch["url"], None, kid=kid))
    return st, h, body


def show(st, h, body):
    t = "-"
    if st >= 400:
        t = json.loads(body)["type"].rsplit(":", 1)[1]
    extra = ""
    if case.startswith("account") and st < 300:
        extra = " " + h.get("Location", "")
    print("%d %s%s" % (st, t, extra))


k = Key("ec")
na = d["newAccount"]
if case == "account":
    show(*call("POST", na, jws(k, na, {"termsOfServiceAgreed": True,
                                       "contact": ["mailto:a@example.test"]})))
elif case == "account-twice":
    call("POST", na, jws(k, na, {}))
    show(*call("POST", na, jws(k, na, {})))
elif case == "account-ed25519":
    k = Key("ed25519")
    show(*call("POST", na, jws(k, na, {})))
elif case == "account-rsa2048":
    k = Key("rsa2048")
    show(*call("POST", na, jws(k, na, {})))
elif case == "rsa1024":
    k = Key("rsa1024")
    show(*call("POST", na, jws(k, na, {})))
elif case == "only-existing":
    show(*call("POST", na, jws(k, na, {"onlyReturnExisting": True})))
elif case == "replay":
    n = nonce()
    call("POST", na, jws(k, na, {}, n=n))
    show(*call("POST", na, jws(k, na, {}, n=n)))
elif case == "bogus-nonce":
    show(*call("POST", na, jws(k, na, {}, n="AAAAAAAAAAAAAAAAAAAAAA")))
elif case == "alg-none":
    show(*call("POST", na, jws(k, na, {}, alg="none", sig=b"")))
elif case == "alg-hs256":
    show(*call("POST", na, jws(k, na, {}, alg="HS256", sig=b"x" * 32)))
elif case == "wrong-url":
    show(*call("POST", na, jws(k, d["newOrder"], {})))
elif case == "big-body":
    show(*call("POST", na, b"{" + b" " * (1 << 20) + b"}"))
elif case == "bad-signature":
    show(*call("POST", na, jws(k, na, {}, sig=b"\x01" * 64)))
elif case == "not-json":
    show(*call("POST", na, b"hello"))
elif case == "kid-and-jwk":
    n = nonce()
    prot = {"alg": "ES256", "nonce": n, "url": na, "jwk": k.jwk, "kid": "x"}
    p = b64(json.dumps(prot).encode())
    pl = b64(b"{}")
    show(*call("POST", na, json.dumps({"protected": p, "payload": pl,
        "signature": b64(k.sign((p + "." + pl).encode()))}).encode()))
elif case == "bad-contact":
    show(*call("POST", na, jws(k, na, {"contact": ["tel:+1555"]})))
elif case == "account-get":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    show(*call("POST", kid, jws(k, kid, None, kid=kid)))
elif case == "other-account":
    st, h, _ = call("POST", na, jws(k, na, {}))
    k2 = Key("ec")
    st, h2, _ = call("POST", na, jws(k2, na, {}))
    kid2 = h2["Location"]
    # k2 signs a request for k's account URL
    show(*call("POST", h["Location"], jws(k2, h["Location"], None, kid=kid2)))
elif case == "deactivate":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    st, h, body = call("POST", kid, jws(k, kid, {"status": "deactivated"}, kid=kid))
    print(st, json.loads(body)["status"])
    no = d["newOrder"]
    show(*call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": "app.test"}]}, kid=kid)))
elif case == "update-contact":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    st, h, body = call("POST", kid, jws(k, kid, {"contact": ["mailto:new@example.test"]}, kid=kid))
    print(st, json.loads(body)["contact"][0])
elif case == "authz-deactivate":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    no = d["newOrder"]
    st, h, body = call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": "app.test"}]}, kid=kid))
    ourl = h["Location"]
    az = json.loads(body)["authorizations"][0]
    st, h, body = call("POST", az, jws(k, az, {"status": "deactivated"}, kid=kid))
    o = json.loads(call("POST", ourl, jws(k, ourl, None, kid=kid))[2])
    print(st, json.loads(body)["status"], o["status"])
elif case == "profiles":
    print(" ".join(sorted(d["meta"]["profiles"])))
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    no = d["newOrder"]
    st, h, body = call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": "app.test"}], "profile": "peer"}, kid=kid))
    print(st, json.loads(body).get("profile"))
    show(*call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": "app.test"}], "profile": "root-ca"}, kid=kid)))
elif case in ("key-change", "key-change-taken"):
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    k2 = Key("ec")
    if case == "key-change-taken":
        call("POST", na, jws(k2, na, {}))
    kc = d["keyChange"]
    ip = b64(json.dumps({"alg": "ES256", "jwk": k2.jwk, "url": kc}).encode())
    ipl = b64(json.dumps({"account": kid, "oldKey": k.jwk}).encode())
    inner = {"protected": ip, "payload": ipl,
             "signature": b64(k2.sign((ip + "." + ipl).encode()))}
    st, h, body = call("POST", kc, jws(k, kc, inner, kid=kid))
    if st != 200:
        show(st, h, body); sys.exit(0)
    print(st)
    st, h, body = call("POST", kid, jws(k2, kid, None, kid=kid))
    print("new key", st)
    st, h, body = call("POST", kid, jws(k, kid, None, kid=kid))
    show(st, h, body)
elif case == "rate":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    no = d["newOrder"]
    out_ = []
    for i in range(3):
        st, h, body = call("POST", no, jws(k, no, {"identifiers": [
            {"type": "dns", "value": "app.test"}]}, kid=kid))
        out_.append(str(st))
    print(" ".join(out_), json.loads(body)["type"].rsplit(":", 1)[1],
          h.get("Retry-After"))
elif case == "eab":
    import hmac, hashlib
    ekid, ekey = sys.argv[4], sys.argv[5]
    key = base64.urlsafe_b64decode(ekey + "=" * (-len(ekey) % 4))
    def binding(acct_key, mac_key):
        p_ = b64(json.dumps({"alg": "HS256", "kid": ekid, "url": na}).encode())
        pl_ = b64(json.dumps(acct_key.jwk).encode())
        sig_ = hmac.new(mac_key, (p_ + "." + pl_).encode(), hashlib.sha256).digest()
        return {"protected": p_, "payload": pl_, "signature": b64(sig_)}
    out_ = []
    st, h, body = call("POST", na, jws(k, na, {}))
    out_.append("%d %s" % (st, json.loads(body).get("type", "-").rsplit(":", 1)[-1] if st >= 400 else "-"))
    st, h, body = call("POST", na, jws(k, na, {"externalAccountBinding": binding(k, b"x" * 32)}))
    out_.append("%d %s" % (st, json.loads(body).get("type", "-").rsplit(":", 1)[-1] if st >= 400 else "-"))
    st, h, body = call("POST", na, jws(k, na, {"externalAccountBinding": binding(k, key)}))
    out_.append("%d %s" % (st, json.loads(body).get("type", "-").rsplit(":", 1)[-1] if st >= 400 else "-"))
    k2 = Key("ec")
    st, h, body = call("POST", na, jws(k2, na, {"externalAccountBinding": binding(k2, key)}))
    out_.append("%d %s" % (st, json.loads(body).get("type", "-").rsplit(":", 1)[-1] if st >= 400 else "-"))
    print(" | ".join(out_), d["meta"]["externalAccountRequired"])
elif case == "many-orders":
    # N orders from one account at once, each through finalize (http-01
    # answered here); prints how many got a certificate before it ended.
    import concurrent.futures, hashlib, http.server, threading
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    nord, port = int(sys.argv[4]), int(sys.argv[5])
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    canon = json.dumps(k.jwk, sort_keys=True, separators=(",", ":"))
    thumb = b64(hashlib.sha256(canon.encode()).digest())
    answers = {}
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            t = self.path.rsplit("/", 1)[-1]
            self.send_response(200 if t in answers else 404); self.end_headers()
            if t in answers:
                self.wfile.write(answers[t].encode())
        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    def one(i):
        try:
            name = "n%d.app.test" % i
            no = d["newOrder"]
            st, h, body = call("POST", no, jws(k, no, {"identifiers": [
                {"type": "dns", "value": name}]}, kid=kid))
            o = json.loads(body)
            a = json.loads(call("POST", o["authorizations"][0], jws(k, o["authorizations"][0], None, kid=kid))[2])
            ch = a["challenges"][0]
            answers[ch["token"]] = ch["token"] + "." + thumb
            answer(k, ch, kid)
            ck = ec.generate_private_key(ec.SECP256R1())
            csr = x509.CertificateSigningRequestBuilder().subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])).add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name)]), False).sign(ck, hashes.SHA256())
            st, h, body = call("POST", o["finalize"], jws(k, o["finalize"], {"csr": b64(
                csr.public_bytes(serialization.Encoding.DER))}, kid=kid))
            return st == 200
        except Exception:
            return False
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        print(sum(ex.map(one, range(nord))))
elif case == "slow-chall":
    # slow-chall NAME: an http-01 challenge whose target accepts and never
    # answers.  Prints the challenge's status as the POST answers it, its
    # Retry-After, whether that POST and a directory GET made meanwhile
    # came back within 1 s, then the challenge's final status and error.
    import time
    name = sys.argv[4]
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    no = d["newOrder"]
    st, h, body = call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": name}]}, kid=kid))
    az = json.loads(body)["authorizations"][0]
    a = json.loads(call("POST", az, jws(k, az, None, kid=kid))[2])
    ch = [c for c in a["challenges"] if c["type"] == "http-01"][0]
    t = time.time()
    st, h, body = call("POST", ch["url"], jws(k, ch["url"], {}, kid=kid))
    t1 = time.time() - t
    t = time.time()
    call("GET", directory_url)
    t2 = time.time() - t
    print(json.loads(body)["status"], h.get("Retry-After"),
          "fast" if t1 < 1 else "slow", "fast" if t2 < 1 else "slow")
    for _ in range(300):
        c = json.loads(call("POST", ch["url"], jws(k, ch["url"], None, kid=kid))[2])
        if c["status"] not in ("pending", "processing"):
            break
        time.sleep(0.05)
    print(c["status"], c.get("error", {}).get("type", "-").rsplit(":", 1)[-1])
elif case == "new-order":
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    no = d["newOrder"]
    show(*call("POST", no, jws(k, no, {"identifiers": [
        {"type": "dns", "value": "app.test"}]}, kid=kid)))
elif case.startswith("order"):
    # order[-badcsr|-othername|-accountkey|-nohttp] NAME HTTP01PORT OUTCERT:
    # the whole flow with an http-01 responder on 127.0.0.1:HTTP01PORT.
    import hashlib, http.server, threading
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    name, port, out = sys.argv[4], int(sys.argv[5]), sys.argv[6]
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    canon = json.dumps(k.jwk, sort_keys=True, separators=(",", ":"))
    thumb = b64(hashlib.sha256(canon.encode()).digest())
    answers = {}

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            t = self.path.rsplit("/", 1)[-1]
            if t in answers:
                self.send_response(200); self.end_headers()
                self.wfile.write(answers[t].encode())
            else:
                self.send_response(404); self.end_headers()
        def log_message(self, *a):
            pass
    srv = http.server.HTTPServer(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    no = d["newOrder"]
    req = {"identifiers": [{"type": "dns", "value": name}]}
    if case == "order-peer":
        req["profile"] = "peer"
    st, h, body = call("POST", no, jws(k, no, req, kid=kid))
    if st != 201:
        show(st, h, body); sys.exit(0)
    order = json.loads(body); ourl = h["Location"]
    for az in order["authorizations"]:
        a = json.loads(call("POST", az, jws(k, az, None, kid=kid))[2])
        ch = [c for c in a["challenges"] if c["type"] == "http-01"][0]
        if case != "order-nohttp":
            answers[ch["token"]] = ch["token"] + "." + thumb
        st, h, body = answer(k, ch, kid)
        if case == "order-nohttp":
            print("challenge", json.loads(body)["status"])
            o = json.loads(call("POST", ourl, jws(k, ourl, None, kid=kid))[2])
            print("order", o["status"]); sys.exit(0)
    o = json.loads(call("POST", ourl, jws(k, ourl, None, kid=kid))[2])
    if o["status"] != "ready":
        print("not ready", o); sys.exit(1)
    ck = ec.generate_private_key(ec.SECP256R1()) if case != "order-accountkey" else k.k
    names = [x509.DNSName(name if case != "order-othername" else "other.test")]
    cn = "evil.test" if case == "order-evilcn" else name
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).add_extension(
        x509.SubjectAlternativeName(names), False).sign(ck, hashes.SHA256())
    der = csr.public_bytes(serialization.Encoding.DER)
    if case == "order-badcsr":
        der = der[:-8] + b"\0" * 8
    fin = o["finalize"]
    st, h, body = call("POST", fin, jws(k, fin, {"csr": b64(der)}, kid=kid))
    if st != 200:
        show(st, h, body); sys.exit(0)
    o = json.loads(body)
    cu = o["certificate"]
    st, h, pem = call("POST", cu, jws(k, cu, None, kid=kid))
    open(out, "wb").write(pem)
    print(st, h.get("Content-Type"), o["status"])
    if case == "order-ari":
        import datetime
        leaf = x509.load_pem_x509_certificate(pem)
        aki = leaf.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier).value.key_identifier
        sn = leaf.serial_number
        snb = sn.to_bytes((sn.bit_length() + 8) // 8, "big")
        cid = b64(aki) + "." + b64(snb)
        ri = d["renewalInfo"].rstrip("/") + "/" + cid
        st, h, body = call("GET", ri)
        w = json.loads(body)["suggestedWindow"]
        start = datetime.datetime.fromisoformat(w["start"].replace("Z", "+00:00"))
        def utc(c, which):
            v = getattr(c, which + "_utc", None)
            return v if v is not None else getattr(c, which).replace(
                tzinfo=datetime.timezone.utc)
        nb = utc(leaf, "not_valid_before")
        na = utc(leaf, "not_valid_after")
        frac = (start - nb) / (na - nb)
        print("window", st, "%.2f" % frac, h.get("Retry-After"))
        # A replacement order names it; once issued, the old one is
        # superseded.
        no = d["newOrder"]
        st, h, body = call("POST", no, jws(k, no, {"identifiers": [
            {"type": "dns", "value": name}], "replaces": cid}, kid=kid))
        print("replaces", st)
        ourl2 = h["Location"]
        order2 = json.loads(body)
        for az in order2["authorizations"]:
            a = json.loads(call("POST", az, jws(k, az, None, kid=kid))[2])
            ch = a["challenges"][0]
            answers[ch["token"]] = ch["token"] + "." + thumb
            answer(k, ch, kid)
        ck2 = ec.generate_private_key(ec.SECP256R1())
        csr2 = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])).add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), False).sign(ck2, hashes.SHA256())
        fin2 = order2["finalize"]
        st, h, body = call("POST", fin2, jws(k, fin2, {"csr": b64(
            csr2.public_bytes(serialization.Encoding.DER))}, kid=kid))
        print("second", st, json.loads(body)["status"])
        st, h, body = call("POST", no, jws(k, no, {"identifiers": [
            {"type": "dns", "value": name}], "replaces": cid}, kid=kid))
        show(st, h, body)
        rc = d["revokeCert"]
        # revoked: the window is now
        call("POST", rc, jws(k, rc, {"certificate": b64(
            leaf.public_bytes(serialization.Encoding.DER))}, kid=kid))
        st, h, body = call("GET", ri)
        w = json.loads(body)["suggestedWindow"]
        s0 = datetime.datetime.fromisoformat(w["start"].replace("Z", "+00:00"))
        e0 = datetime.datetime.fromisoformat(w["end"].replace("Z", "+00:00"))
        now = datetime.datetime.now(datetime.timezone.utc)
        print("revoked-window", s0 <= now <= e0)
    if case == "order-revoke":
        leaf = x509.load_pem_x509_certificate(pem)
        certb64 = b64(leaf.public_bytes(serialization.Encoding.DER))
        rc = d["revokeCert"]
        other = Key("ec")
        st2, h2, _ = call("POST", na, jws(other, na, {}))
        st, h, body = call("POST", rc, jws(other, rc, {"certificate": certb64},
                                            kid=h2["Location"]))
        show(st, h, body)
        ckey = Key("ec"); ckey.k = ck
        n_ = ck.public_key().public_numbers()
        ckey.jwk = {"kty": "EC", "crv": "P-256", "x": b64(n_.x.to_bytes(32, "big")),
                    "y": b64(n_.y.to_bytes(32, "big"))}
        st, h, body = call("POST", rc, jws(ckey, rc, {"certificate": certb64,
                                                     "reason": 1}))
        show(st, h, body)
        st, h, body = call("POST", rc, jws(k, rc, {"certificate": certb64},
                                           kid=kid))
        show(st, h, body)
elif case == "chall":
    # chall TYPE NAME MGMTPORT OUTCERT [wrong|none]: an order for NAME
    # validated by TYPE (tls-alpn-01 or dns-01) as pebble-challtestsrv
    # (management API on 127.0.0.1:MGMTPORT) answers it, with the right
    # key authorization, a wrong one, or none.  Prints the challenge types
    # offered, the challenge's outcome, the finalized order's, and the
    # status a second order for NAME starts in (its authorization reused).
    import hashlib
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    typ, name, mport, out = sys.argv[4:8]
    how = sys.argv[8] if len(sys.argv) > 8 else "right"
    st, h, _ = call("POST", na, jws(k, na, {}))
    kid = h["Location"]
    canon = json.dumps(k.jwk, sort_keys=True, separators=(",", ":"))
    thumb = b64(hashlib.sha256(canon.encode()).digest())
    no = d["newOrder"]
    ident = {"type": "ip" if name[0].isdigit() else "dns", "value": name}
    st, h, body = call("POST", no, jws(k, no, {"identifiers": [ident]}, kid=kid))
    if st != 201:
        show(st, h, body); sys.exit(0)
    order = json.loads(body); ourl = h["Location"]
    az = order["authorizations"][0]
    a = json.loads(call("POST", az, jws(k, az, None, kid=kid))[2])
    print("offered", " ".join(sorted(c["type"] for c in a["challenges"])),
          "wildcard" if a.get("wildcard") else a["identifier"]["value"])
    ch = [c for c in a["challenges"] if c["type"] == typ][0]
    ka = ch["token"] + "." + thumb
    if how == "wrong":
        ka = ch["token"] + ".not-this-account"
    def mgmt(path, obj):
        r = urllib.request.Request("http://127.0.0.1:%s%s" % (mport, path),
                                   data=json.dumps(obj).encode(), method="POST")
        urllib.request.urlopen(r, timeout=5).read()
    base = name[2:] if name.startswith("*.") else name
    if typ == "tls-alpn-01" and ident["type"] == "ip":
        # pebble-challtestsrv knows no address identifiers: answer here,
        # on 127.0.0.1:MGMTPORT, as RFC 8738 6 says (the SNI is the
        # reverse-DNS name; the certificate names the address).
        import datetime, ipaddress, tempfile, threading, socket
        from cryptography.x509.oid import ObjectIdentifier
        ak = ec.generate_private_key(ec.SECP256R1())
        dg = hashlib.sha256(ka.encode()).digest()
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme-tls")])).public_key(
            ak.public_key()).serial_number(x509.random_serial_number()).not_valid_before(
            now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(
            hours=1)).add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address(name))]), True).add_extension(x509.UnrecognizedExtension(
            ObjectIdentifier("1.3.6.1.5.5.7.1.31"), b"\x04\x20" + dg), True).sign(ak, hashes.SHA256())
        tmp = tempfile.mkdtemp()
        open(tmp + "/c.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
        open(tmp + "/k.pem", "wb").write(ak.private_bytes(serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(tmp + "/c.pem", tmp + "/k.pem")
        sctx.set_alpn_protocols(["acme-tls/1"])
        seen = []
        sctx.sni_callback = lambda so, sn, c: seen.append(sn)
        ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", int(mport))); ls.listen(4); ls.settimeout(10)
        def respond_tls():
            try:
                c, _ = ls.accept()
                with sctx.wrap_socket(c, server_side=True) as t:
                    t.recv(1)
            except Exception:
                pass
        threading.Thread(target=respond_tls, daemon=True).start()
        how = "none"
    if how != "none" and typ == "tls-alpn-01":
        mgmt("/add-tlsalpn01", {"host": base, "content": ka})
    elif how != "none":
        mgmt("/set-txt", {"host": "_acme-challenge." + base + ".",
                          "value": b64(hashlib.sha256(ka.encode()).digest())})
    st, h, body = answer(k, ch, kid)
    c = json.loads(body)
    print("challenge", c["status"], c.get("error", {}).get("type", "-").rsplit(":", 1)[-1])
    if typ == "tls-alpn-01" and ident["type"] == "ip":
        print("sni", seen[0] if seen else None)
    if c["status"] != "valid":
        sys.exit(0)
    ck = ec.generate_private_key(ec.SECP256R1())
    san = x509.IPAddress(__import__("ipaddress").ip_address(name)) \
        if ident["type"] == "ip" else x509.DNSName(name)
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])).add_extension(
        x509.SubjectAlternativeName([san]), False).sign(ck, hashes.SHA256())
    fin = order["finalize"]
    st, h, body = call("POST", fin, jws(k, fin, {"csr": b64(
        csr.public_bytes(serialization.Encoding.DER))}, kid=kid))
    if st != 200:
        show(st, h, body); sys.exit(0)
    o = json.loads(body)
    st, h, pem = call("POST", o["certificate"], jws(k, o["certificate"], None, kid=kid))
    open(out, "wb").write(pem)
    print("order", st, o["status"])
    st, h, body = call("POST", no, jws(k, no, {"identifiers": [ident]}, kid=kid))
    print("again", st, json.loads(body)["status"])
else:
    sys.exit("unknown case " + case)
