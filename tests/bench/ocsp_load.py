#!/usr/bin/env python3
"""ocsp_load.py PORT REQUEST.der SECONDS [PROCS] - a loopback OCSP load:
PROCS processes (default 2), each POSTing REQUEST.der in a loop over one
kept-alive connection (reconnecting when the server closes it, as an
HTTP/1.0 responder does).  Prints 'rps=N p99_ms=X errors=E'."""
import multiprocessing
import socket
import sys
import time


def worker(port, body, seconds, q, path=b'/'):
    req = (b'POST ' + path + b' HTTP/1.1\r\nHost: 127.0.0.1\r\n'
           b'Content-Type: application/ocsp-request\r\n'
           b'Content-Length: %d\r\n\r\n' % len(body)) + body
    lat, errors, s, buf = [], 0, None, b''
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if s is None:
                s = socket.create_connection(('127.0.0.1', port), timeout=5)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf = b''
            s.sendall(req)
            while b'\r\n\r\n' not in buf:
                d = s.recv(65536)
                if not d:
                    raise ConnectionError('closed')
                buf += d
            head, buf = buf.split(b'\r\n\r\n', 1)
            lines = head.split(b'\r\n')
            n, close = 0, lines[0].startswith(b'HTTP/1.0')
            for h in lines[1:]:
                k, _, v = h.partition(b':')
                k = k.strip().lower()
                if k == b'content-length':
                    n = int(v)
                elif k == b'connection':
                    close = v.strip().lower() == b'close'
            while len(buf) < n:
                d = s.recv(65536)
                if not d:
                    raise ConnectionError('closed')
                buf += d
            ok = lines[0].split()[1] == b'200' and buf[:1] == b'\x30'
            buf = buf[n:]
            if close:
                s.close()
                s = None
            if not ok:
                errors += 1
                continue
            lat.append(time.monotonic() - t0)
        except (OSError, ConnectionError, ValueError, IndexError):
            errors += 1
            if s is not None:
                s.close()
            s = None
    q.put((lat, errors))


def main():
    port, body = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
    seconds = float(sys.argv[3])
    procs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    path = sys.argv[5].encode() if len(sys.argv) > 5 else b'/'
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(port, body, seconds, q,
                                                       path))
          for _ in range(procs)]
    for p in ps:
        p.start()
    lat, errors = [], 0
    for _ in ps:
        l, e = q.get()
        lat += l
        errors += e
    for p in ps:
        p.join()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
    print('rps=%.0f p99_ms=%.2f errors=%d' % (len(lat) / seconds, p99, errors))


main()
