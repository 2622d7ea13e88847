#!/usr/bin/python3
"""Phones that all start at the same instant, for wsrecv's budget tests.

usage: wsburst.py [--key BYTES] [--timeout SECS] PORT COUNT CLIP

Every phone connects and upgrades first; none sends a byte before all have
(a barrier). Then each says what the app says (ready, capabilities,
capture_started) and sends the clip as the app does: its parameter sets as
the config packet, then each access unit as one binary message behind the
16-byte phone header (device time in ms, sequence number, length), then
capture_stopped and a close frame. With --key the first access unit is
padded to BYTES with a filler NAL unit (type 12), as a phone's first key
frame after `start` is large. Prints, flushed: "connected COUNT", then
"done OK SHA256": how many phones got the server's close answer, and the
sha256 of the stream every recording must hold. Exit 1 when a phone fails.
Frames are written by hand, masked with the key 0 (RFC 6455 allows it).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys


def units(clip, key):
    """The config packet and the access units, cut as the app's encoder
    hands them out: a new unit at an SEI, SPS, PPS or AUD, or at a slice,
    after a picture."""
    starts, i = [], clip.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i - 1 if i > 0 and clip[i - 1] == 0 else i)
        i = clip.find(b"\x00\x00\x01", i + 3)
    types = [clip[s + (3 if clip[s + 2] == 1 else 4)] & 0x1F for s in starts]
    cut = [s for s, t in zip(starts, types) if t not in (7, 8)][0]
    out, begin, vcl = [clip[:cut]], cut, False
    for s, t in zip(starts, types):
        if s < cut:
            continue
        if vcl and t in (1, 5, 6, 7, 8, 9):
            out.append(clip[begin:s])
            begin, vcl = s, False
        vcl |= t in (1, 5)
    out.append(clip[begin:])
    if key and len(out[1]) + 6 < key:
        out[1] += b"\x00\x00\x00\x01\x0c" + b"\xff" * (key - len(out[1]) - 6) + b"\x80"
    return out


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    return head + b"\0\0\0\0" + payload


def text(obj):
    return frame(1, json.dumps(obj).encode())


async def phone(port, index, packets, go, connected, timeout):
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
    w.write(text({"status": "ready", "message": "Client is ready to stream"}))
    w.write(text({"type": "capabilities", "deviceModel": "wsburst %d" % index,
                  "sdkInt": 34, "resolutions": []}))
    w.write(text({"status": "capture_started", "message": "Streaming H.264"}))
    for seq, p in enumerate(packets, 1):
        t = 0 if seq == 1 else 1764000000000 + seq * 33
        w.write(frame(2, struct.pack(">QII", t, seq, len(p)) + p))
    w.write(text({"status": "capture_stopped", "message": "Streaming stopped"}))
    w.write(frame(8, struct.pack(">H", 1000)))
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
    packets = units(open(a.clip, "rb").read(), a.key)
    go, connected = asyncio.Event(), []
    tasks = [asyncio.ensure_future(phone(a.port, i, packets, go, connected,
                                         a.timeout)) for i in range(a.count)]
    while len(connected) < a.count and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    print("connected", len(connected), flush=True)
    go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    for r in results:
        if isinstance(r, BaseException):
            print("wsburst:", repr(r), file=sys.stderr)
            break
    print("done", ok, hashlib.sha256(b"".join(packets)).hexdigest(), flush=True)
    return 0 if ok == a.count else 1


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--key", type=int, default=0)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("clip")
    return asyncio.run(run(p.parse_args()))


sys.exit(main())
