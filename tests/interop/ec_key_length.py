#!/usr/bin/env python3
"""ec_key_length.py - the privateKey octet count of EC keys (RFC 5915 3).

  ec_key_length.py pem FILE...        PKCS#8 PEM key files
  ec_key_length.py der HEXFILE        one plain PKCS#8 DER per line, hex
  ec_key_length.py enc PASS HEXFILE   one PBES2-encrypted PKCS#8 per line

Prints "LENGTH COUNT" lines (sorted), one per length seen.  The DER walk
is a few lines on purpose: this is the independent reader, not GnuTLS.
"""
import base64
import hashlib
import sys


def tlv(b, i):
    tag, ln = b[i], b[i + 1]
    i += 2
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(b[i:i + n], "big")
        i += n
    return tag, i, ln


def children(b):
    """The (tag, value) of each element inside one SEQUENCE b."""
    _, i, ln = tlv(b, 0)
    end = i + ln
    out = []
    while i < end:
        tag, j, n = tlv(b, i)
        out.append((tag, b[j:j + n], b[i:j + n]))
        i = j + n
    return out


def ec_len(pkcs8):
    pki = children(pkcs8)
    assert pki[2][0] == 0x04, "PrivateKeyInfo.privateKey"
    ec = children(pki[2][1])
    assert ec[1][0] == 0x04, "ECPrivateKey.privateKey"
    return len(ec[1][1])


def decrypt(epki, password):
    # RFC 8018: PBES2 { PBKDF2 { salt, iterations, [keyLength], prf },
    # aes256-CBC { iv } }
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    alg, data = children(epki)[0], children(epki)[1]
    params = children(alg[2])[1][2]
    kdf, enc = children(params)
    kdf_params = children(kdf[2])[1][2]
    fields = children(kdf_params)
    salt = fields[0][1]
    iters = int.from_bytes(fields[1][1], "big")
    iv = children(enc[2])[1][1]
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters, 32)
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = d.update(data[1]) + d.finalize()
    return plain[:-plain[-1]], iters


def main():
    counts = {}
    mode = sys.argv[1]
    if mode == "pem":
        for f in sys.argv[2:]:
            text = open(f, "rb").read().split(b"\n")
            der = base64.b64decode(b"".join(
                x for x in text if x and not x.startswith(b"-----")))
            n = ec_len(der)
            counts[n] = counts.get(n, 0) + 1
    else:
        password = sys.argv[2] if mode == "enc" else None
        path = sys.argv[-1]
        for line in open(path):
            der = bytes.fromhex(line.strip())
            if password is not None:
                der, iters = decrypt(der, password)
                if iters < 600000:
                    print("iterations", iters)
            n = ec_len(der)
            counts[n] = counts.get(n, 0) + 1
    for n in sorted(counts):
        print(n, counts[n])


main()
