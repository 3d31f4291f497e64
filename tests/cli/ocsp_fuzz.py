#!/usr/bin/env python3
"""ocsp_fuzz.py PORT REQUEST.der COUNT - sends COUNT random, truncated and
bit-flipped OCSP requests (POST and GET) to a responder on 127.0.0.1:PORT
over a few kept-alive connections.  Every answer must be HTTP 200 with a
DER OCSPResponse (or 413/414/431 for oversized input).  Prints a summary and
exits 1 on a bad answer, 2 when the responder stalls (5 s per request) or
the whole run takes more than 120 s."""
import base64
import http.client
import random
import sys
import time
import urllib.parse

port, reqfile, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
valid = open(reqfile, 'rb').read()
rng = random.Random(4242)
deadline = time.monotonic() + 120


def mutate():
    k = rng.randrange(6)
    if k == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
    if k == 1:
        return valid[:rng.randrange(len(valid))]
    if k == 2:
        b = bytearray(valid)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    if k == 3:
        b = bytearray(valid)
        b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b) + bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
    if k == 4:
        # nested lengths that lie
        return b'\x30\x84\xff\xff\xff\xff' + valid[2:]
    return b'\x30' + bytes([rng.randrange(256)]) * rng.randrange(1, 200)


conns = []
def conn(i):
    while len(conns) <= i:
        conns.append(None)
    if conns[i] is None:
        conns[i] = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    return conns[i]


bad = 0
stats = {}
for n in range(count):
    if time.monotonic() > deadline:
        print('# fuzz: out of time after %d requests' % n)
        sys.exit(2)
    body = mutate()
    i = n % 4
    c = conn(i)
    try:
        if n % 3 == 0:
            path = '/' + urllib.parse.quote(base64.b64encode(body).decode(), safe='')
            if n % 30 == 0:
                path = '/' + 'A' * rng.randrange(1, 9000)
            c.request('GET', path)
        elif n % 97 == 0:
            c.request('POST', '/', body=b'\x30' * 70000,
                      headers={'Content-Type': 'application/ocsp-request'})
        else:
            c.request('POST', '/', body=body,
                      headers={'Content-Type': 'application/ocsp-request'})
        r = c.getresponse()
        data = r.read()
    except (TimeoutError, OSError) as e:
        if isinstance(e, TimeoutError) or 'timed out' in str(e):
            print('# fuzz: request %d stalled' % n)
            sys.exit(2)
        # the server may close a connection after an error status
        conns[i] = None
        stats['reconnect'] = stats.get('reconnect', 0) + 1
        continue
    except http.client.HTTPException:
        conns[i] = None
        stats['reconnect'] = stats.get('reconnect', 0) + 1
        continue
    if r.status == 200:
        if len(data) < 5 or data[0] != 0x30:
            bad += 1
            print('# bad answer to request %d: %r' % (n, data[:16]))
            continue
        # the responseStatus ENUMERATED
        k = 'status%d' % data[4] if data[1] < 0x80 else 'status%d' % data[2 + (data[1] & 0x7f) + 2]
        stats[k] = stats.get(k, 0) + 1
    elif r.status in (413, 414, 431):
        stats[str(r.status)] = stats.get(str(r.status), 0) + 1
        conns[i] = None
    else:
        bad += 1
        print('# HTTP %d for request %d' % (r.status, n))
print('# fuzz: %d requests, %s' % (count, ' '.join('%s=%d' % kv for kv in sorted(stats.items()))))
sys.exit(1 if bad else 0)
