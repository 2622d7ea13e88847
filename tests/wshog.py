#!/usr/bin/python3
"""Hold WebSocket messages open: N connections each send SIZE bytes of one
binary message in fragments and never the final one.

usage: wshog.py PORT N SIZE SECS

A raw-socket client, independent of any WebSocket library. It sends what
the server takes for at most SECS seconds, prints "sent BYTES" (all
connections together), then holds the connections SECS more seconds and
closes them.
"""
import base64
import os
import select
import socket
import sys
import time

FRAG = 65536


def handshake(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /hog HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % key).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        got = s.recv(4096)
        if not got:
            raise SystemExit("wshog: closed during the handshake")
        resp += got
    if not resp.startswith(b"HTTP/1.1 101"):
        raise SystemExit("wshog: refused: %r" % resp.split(b"\r\n")[0])
    s.setblocking(False)
    return s


def frame(opcode, payload):
    """A masked frame without FIN (mask key 0: the payload goes as is)."""
    n = len(payload)
    if n < 126:
        head = bytes([opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def main():
    port, n, size, secs = (int(sys.argv[1]), int(sys.argv[2]),
                           int(sys.argv[3]), float(sys.argv[4]))
    socks = [handshake(port) for _ in range(n)]
    payload = os.urandom(FRAG)
    frames = (size + FRAG - 1) // FRAG
    # Per socket: frames still to send, bytes of the current one left.
    todo = {s: [frames, b""] for s in socks}
    sent = 0
    deadline = time.monotonic() + secs
    while todo and time.monotonic() < deadline:
        _, ready, _ = select.select([], list(todo), [], 0.1)
        for s in ready:
            st = todo[s]
            if not st[1]:
                st[1] = frame(2 if st[0] == frames else 0, payload)
                st[0] -= 1
            try:
                k = s.send(st[1])
            except BlockingIOError:
                continue
            sent += k
            st[1] = st[1][k:]
            if not st[1] and st[0] == 0:
                del todo[s]
    print("sent", sent, flush=True)
    time.sleep(secs)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
