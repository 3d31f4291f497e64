#!/usr/bin/env python3
# evilcert.py - writes ca.crt, ca.key and evil.der (escapes.sh): a CA and
# a leaf whose CNs carry terminal escape sequences, printable UTF-8 and
# octets that are not UTF-8 (patched into the signed part, signed again:
# no library makes such a name on purpose).
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b

def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body

def skip(der, i):
    # index after the TLV at i
    n = der[i + 1]
    if n < 0x80:
        return i + 2 + n
    k = n & 0x7f
    return i + 2 + k + int.from_bytes(der[i + 2:i + 2 + k], "big")

def resign(cert, key, old, new):
    """cert with old replaced by new (same length) in its TBS, signed again."""
    der = cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes
    i = der.index(tbs)
    alg_end = skip(der, i + len(tbs))
    alg = der[i + len(tbs):alg_end]
    tbs2 = tbs.replace(old, new)
    sig = key.sign(tbs2, ec.ECDSA(hashes.SHA256()))
    return tlv(0x30, tbs2 + alg + tlv(0x03, b"\0" + sig))

now = datetime.datetime(2025, 1, 1)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
ck = ec.generate_private_key(ec.SECP256R1())
casub = name("Evil \x1b]0;pwned\x07 CA")
ca = (x509.CertificateBuilder().subject_name(casub).issuer_name(casub)
      .public_key(ck.public_key()).serial_number(1).not_valid_before(now)
      .not_valid_after(now + datetime.timedelta(days=3650))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                   True, False, False), True)
      .sign(ck, hashes.SHA256()))
lk = ec.generate_private_key(ec.SECP256R1())
leaf = (x509.CertificateBuilder()
        .subject_name(name("\x1b]0;pwned\x07\x1b[2J caf\u00e9 \u65e5\u672c PLACEHLD"))
        .issuer_name(casub).public_key(lk.public_key()).serial_number(2)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.test")]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ck, hashes.SHA256()))
der = resign(leaf, ck, b"PLACEHLD", b"\xff\x80\x9b\xc0\xaf\xed\xa0\x80")
open("ca.crt", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open("ca.key", "wb").write(ck.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open("evil.der", "wb").write(der)
