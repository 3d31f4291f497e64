#!/usr/bin/env python3
"""ocsp_slow.py - slow clients and real requests against an OCSP responder
on loopback (issue 14, item 4).  Bounded in count and time; stops by itself.

  ocsp_slow.py slow PORT N INTERVAL DURATION [READY_FILE] [--reconnect]
      N connections that send a request line, then one header line every
      INTERVAL seconds, never finishing; with --reconnect each one closed
      by the server is opened again.  Touches READY_FILE once N are open.
      After DURATION seconds prints one JSON line: opened, closed_by_server,
      connect_failed, and the lifetimes (s) of the connections the server
      closed (min, median, max).
  ocsp_slow.py real PORT REQ_DER COUNT
      COUNT OCSP requests (POST, one connection each, 5 s timeout each),
      one after the other; prints one JSON line: ok, failed, p50, p99 and
      max latency in ms.  Exits 1 unless all succeed.
"""
import json
import resource
import selectors
import socket
import sys
import time


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 64))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def slow(port, n, interval, duration, ready, reconnect):
    raise_nofile(n)
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    end = start + duration
    conns = {}          # socket -> [opened_at, next_send_at, lines_sent]
    lifetimes = []
    opened = failed = 0

    def open_one():
        nonlocal opened, failed
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            failed += 1
            s.close()
            return
        s.setblocking(False)
        now = time.monotonic()
        conns[s] = [now, now + interval, 0]
        sel.register(s, selectors.EVENT_READ)
        opened += 1

    def closed(s):
        lifetimes.append(time.monotonic() - conns[s][0])
        sel.unregister(s)
        del conns[s]
        s.close()

    for _ in range(n):
        if time.monotonic() >= end:
            break
        open_one()
    if ready:
        open(ready, "w").close()
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed(s)
        now = time.monotonic()
        for s, st in list(conns.items()):
            if now >= st[1]:
                try:
                    s.send(b"X-Slow-%d: x\r\n" % st[2])
                    st[2] += 1
                    st[1] = now + interval
                except OSError:
                    closed(s)
        while reconnect and len(conns) < n and time.monotonic() < end:
            open_one()
            if failed > 100 * n:
                break
    for s in list(conns):
        s.close()
    lifetimes.sort()
    print(json.dumps({
        "opened": opened,
        "closed_by_server": len(lifetimes),
        "connect_failed": failed,
        "open_at_end": len(conns),
        "lifetime_min": round(lifetimes[0], 3) if lifetimes else None,
        "lifetime_median": round(lifetimes[len(lifetimes) // 2], 3)
        if lifetimes else None,
        "lifetime_max": round(lifetimes[-1], 3) if lifetimes else None,
    }))
    return 0


def real(port, req_path, count):
    req = open(req_path, "rb").read()
    head = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/ocsp-request\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(req))
    lat = []
    failed = 0
    for _ in range(count):
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=5) as s:
                s.sendall(head + req)
                buf = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
            good = buf.startswith(b"HTTP/1.1 200") and \
                b"application/ocsp-response" in buf and \
                b"\r\n\r\n0" in buf
        except OSError:
            good = False
        if good:
            lat.append((time.monotonic() - t0) * 1000)
        else:
            failed += 1
    lat.sort()

    def pct(p):
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, int(len(lat) * p / 100))], 2)
    print(json.dumps({"ok": len(lat), "failed": failed, "p50_ms": pct(50),
                      "p99_ms": pct(99),
                      "max_ms": round(lat[-1], 2) if lat else None}))
    return 0 if failed == 0 else 1


def main(argv):
    if len(argv) >= 6 and argv[1] == "slow":
        rest = [a for a in argv[6:] if a != "--reconnect"]
        return slow(int(argv[2]), int(argv[3]), float(argv[4]),
                    float(argv[5]), rest[0] if rest else None,
                    "--reconnect" in argv[6:])
    if len(argv) == 5 and argv[1] == "real":
        return real(int(argv[2]), argv[3], int(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
