#!/usr/bin/python3
"""Open a flood of connections that never complete a handshake, and see how
long the server lets each live, for wsrecv's handshake timeout.

usage: flood.py [--deadline SECS] PORT IDLE SLOW

IDLE connections send nothing; SLOW ones send a WebSocket handshake one
byte a second, each. Every connection is watched until the server closes
it, or until SECS (default 30) have passed since the last was opened.
Prints, flushed: "opened N" once all are open, then "closed C of N,
longest S s": how many the server closed, and the longest any lived.
Exit 1 when some were still open at the deadline.
"""
import argparse
import resource
import selectors
import socket
import sys
import time

REQUEST = (b"GET /android-cam HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--deadline", type=float, default=30)
    p.add_argument("port", type=int)
    p.add_argument("idle", type=int)
    p.add_argument("slow", type=int)
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.idle + a.slow + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    sel = selectors.DefaultSelector()
    born, sent, slow = {}, {}, []
    for i in range(a.idle + a.slow):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", a.port))
        born[s] = time.monotonic()
        sent[s] = 0
        sel.register(s, selectors.EVENT_READ)
        if i >= a.idle:
            slow.append(s)
    n = len(born)
    print("opened", n, flush=True)
    end = time.monotonic() + a.deadline
    longest, closed, next_drip = 0.0, 0, time.monotonic()
    while born and time.monotonic() < end:
        for key, _ in sel.select(0.1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                continue
            longest = max(longest, time.monotonic() - born.pop(s))
            closed += 1
            sel.unregister(s)
            s.close()
        if time.monotonic() >= next_drip:
            next_drip += 1
            for s in slow:
                if s in born and sent[s] < len(REQUEST):
                    try:
                        s.send(REQUEST[sent[s]:sent[s] + 1])
                        sent[s] += 1
                    except (BlockingIOError, OSError):
                        pass
    print("closed %d of %d, longest %.1f s" % (closed, n, longest), flush=True)
    return 0 if closed == n else 1


if __name__ == "__main__":
    sys.exit(main())
