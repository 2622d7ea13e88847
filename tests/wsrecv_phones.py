#!/usr/bin/python3
"""Many phones of the current app sending one large text message each (a
segment's JSON, base64 inside), all at the same moment, for wsrecv's tests.

usage: wsrecv_phones.py [--timeout SECS] PORT COUNT BYTES

Every phone connects first; once all are connected they all send their
message together, then close. Prints, flushed: "connected COUNT", then
"done OK SHA256": how many phones got their message through and the
server's close answer, and the sha256 of the message (the same for all).
Exit 1 when a phone fails. The frames are written by hand, masked with
the key 0 (which RFC 6455 allows), so that a hundred clients of 15 MiB
each cost the test nothing but the copying.
"""
import argparse
import asyncio
import base64
import hashlib
import os
import struct
import sys


def message(size):
    raw = os.urandom(size * 3 // 4 + 3)
    data = base64.b64encode(raw).decode()
    head = '{"type":"mp4_segment","segment_id":"20251221_195713_00","data":"'
    tail = '","size":%d,"qr_results":[]}' % len(raw)
    return head + data[:max(0, size - len(head) - len(tail))] + tail


async def phone(port, frame, go, connected, timeout):
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                  timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(("GET /android-cam HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
             % (port, key)).encode())
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), timeout)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("handshake: %r" % head[:40])
    connected.append(1)
    await go.wait()
    w.write(frame)
    w.write(b"\x88\x82\0\0\0\0" + struct.pack(">H", 1000))
    await asyncio.wait_for(w.drain(), timeout)
    while True:    # the server may ping first
        head = await asyncio.wait_for(r.readexactly(2), timeout)
        n = head[1] & 0x7f
        if n == 126:
            n = struct.unpack(">H", await r.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", await r.readexactly(8))[0]
        body = await asyncio.wait_for(r.readexactly(n), timeout)
        if head[0] & 0x0f == 8:
            break
        if head[0] & 0x0f == 9:
            w.write(bytes([0x8a, 0x80 | n]) + b"\0\0\0\0" + body)
    w.close()
    return body[:2] == struct.pack(">H", 1000)


async def run(a):
    msg = message(a.bytes).encode()
    n = len(msg)
    if n < 126:
        frame = bytes([0x81, 0x80 | n])
    elif n < 65536:
        frame = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    else:
        frame = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
    frame += b"\0\0\0\0" + msg
    go, connected = asyncio.Event(), []
    tasks = [asyncio.ensure_future(phone(a.port, frame, go, connected,
                                         a.timeout)) for _ in range(a.count)]
    while len(connected) < a.count and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    print("connected", len(connected), flush=True)
    go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    for r in results:
        if isinstance(r, BaseException):
            print("wsrecv_phones:", repr(r), file=sys.stderr)
            break
    print("done", ok, hashlib.sha256(msg).hexdigest(), flush=True)
    return 0 if ok == a.count else 1


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("bytes", type=int)
    return asyncio.run(run(p.parse_args()))


sys.exit(main())
