#!/usr/bin/python3
"""Clients of wsrecv's console side for the tests (no browser).

usage: console.py phone URL CLIP [--fps F] [--seconds S] [--count FILE]
       console.py viewer URL --out FILE [--seconds S] [--delay-ms MS] [--ids all|N,..]
       console.py stall URL --seconds S
       console.py http PORT METHOD RAWPATH [HEADER...]
       console.py old URL --send TEXT... --seconds S

phone   a phone of the earlier app: sends CLIP's SPS+PPS (time 0), then one
        access unit per message with the 16-byte header, key frames as in
        the clip, looping; writes the number of frames sent to --count.
viewer  the page's protocol (/dev?v=2): watches cameras and writes one JSON
        line per preview message (type, flags, camera, t_us, len, t_rx) and
        per text message; --delay-ms sleeps after each message (a slow
        viewer).
stall   connects as a page, watches everything and never reads again; at
        the end reads what is left and prints "closed" if the server hung
        up, "open" if not.
http    one raw request (the path is sent as given, nothing normalized);
        prints the status code and the body's sha256 and length.
old     the old console (/dev, plain text): sends each TEXT and prints
        "text MSG" / "binary LEN FIRST2HEX" per message received.
"""
import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time

import websockets


def nal_units(data):
    """(start, type) of every NAL unit in Annex-B data, and its end."""
    out, i, n = [], 0, len(data)
    starts = []
    while i + 3 <= n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            starts.append(i)
            i += 3
        else:
            i += 1
    for k, s in enumerate(starts):
        # A 4-byte start code's zero belongs to the next unit.
        if s > 0 and data[s - 1] == 0 and (k == 0 or starts[k - 1] < s - 1):
            s -= 1
        out.append(s)
    return [(out[k], out[k + 1] if k + 1 < len(out) else n, data[starts[k] + 3] & 31)
            for k in range(len(out))]


def access_units(data):
    """The clip as (config, [(is_key, au), ...]): one picture per unit."""
    config, aus, pending = b"", [], b""
    for s, e, t in nal_units(data):
        unit = data[s:e]
        if t in (7, 8) and not aus and not pending.strip(b"\0"):
            config += unit
            continue
        pending += unit
        if t in (1, 5):
            aus.append((t == 5, pending))
            pending = b""
    return config, aus


async def phone(url, clip, fps, seconds, count_file):
    config, aus = access_units(open(clip, "rb").read())
    sent = 0
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"status": "ready"}))
        await ws.send(json.dumps({"type": "capabilities", "deviceModel": "console-test"}))
        await ws.send(struct.pack(">QII", 0, 0, len(config)) + config)
        t0 = time.monotonic()
        seq = 1
        while time.monotonic() - t0 < seconds:
            key, au = aus[(seq - 1) % len(aus)]
            ts = 1000 + seq * 1000 // int(fps)
            await ws.send(struct.pack(">QII", ts, seq, len(au)) + au)
            sent += 1
            seq += 1
            due = t0 + (seq - 1) / fps
            await asyncio.sleep(max(0, due - time.monotonic()))
        if count_file:
            with open(count_file, "w") as f:
                f.write(f"{sent}\n")


def parse_preview(m):
    kind, flags = m[0], m[1]
    cam, t_us = struct.unpack(">QQ", m[4:20])
    return {"type": kind, "flags": flags, "cam": cam, "t_us": t_us, "len": len(m) - 20}


async def viewer(url, out, seconds, delay_ms, ids):
    t_end = time.monotonic() + seconds
    kw = {}
    if delay_ms:
        # A slow reader holds little: the server's queue must feel it.
        host, port, _ = split_url(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, port))
        kw = {"sock": sock, "max_queue": 1, "read_limit": 4096}
    with open(out, "w") as f:
        async with websockets.connect(url, max_size=None, compression=None, **kw) as ws:
            watching = False
            while time.monotonic() < t_end:
                try:
                    m = await asyncio.wait_for(ws.recv(), max(0.01, t_end - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                except websockets.ConnectionClosed as e:
                    f.write(json.dumps({"closed": e.code, "reason": e.reason}) + "\n")
                    return
                rx = time.monotonic()
                if isinstance(m, bytes):
                    rec = parse_preview(m)
                    rec["t_rx"] = rx
                    f.write(json.dumps(rec) + "\n")
                else:
                    j = json.loads(m)
                    f.write(json.dumps({"text": j, "t_rx": rx}) + "\n")
                    if j.get("type") == "cameras" and not watching and j["cameras"]:
                        want = [c["id"] for c in j["cameras"]] if ids == "all" else \
                            [int(x) for x in ids.split(",")]
                        await ws.send(json.dumps({"type": "watch", "ids": want}))
                        f.write(json.dumps({"watch": want, "t_rx": time.monotonic()}) + "\n")
                        watching = True
                f.flush()
                if delay_ms:
                    await asyncio.sleep(delay_ms / 1000)


def handshake(host, port, path, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("handshake: connection closed")
        buf += chunk
    if b" 101 " not in buf.split(b"\r\n")[0]:
        raise SystemExit("handshake refused: " + buf.split(b"\r\n")[0].decode())
    return s


def ws_text(s, text):
    data = text.encode()
    mask = os.urandom(4)
    hdr = bytes([0x81])
    if len(data) < 126:
        hdr += bytes([0x80 | len(data)])
    else:
        hdr += bytes([0x80 | 126]) + struct.pack(">H", len(data))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def stall(url, seconds):
    host, port, path = split_url(url)
    s = handshake(host, port, path, rcvbuf=4096)
    # Watch every camera there is, then read nothing at all.
    ws_text(s, json.dumps({"type": "watch", "ids": "all"}))
    time.sleep(seconds)
    # Whatever the kernel still holds, then the end of the connection, if
    # the server closed it; a server that did not goes on sending its
    # camera list every second.
    closed = False
    t_end = time.monotonic() + 10
    try:
        while time.monotonic() < t_end:
            s.settimeout(max(0.01, t_end - time.monotonic()))
            chunk = s.recv(1 << 20)
            if not chunk:
                closed = True
                break
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    print("closed" if closed else "open", flush=True)


def split_url(url):
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    return host, int(port), "/" + path


def http(port, method, path, headers):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = f"{method} ".encode() + path.encode("latin-1").decode("unicode_escape").encode("latin-1") + \
        b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for h in headers:
        req += h.encode() + b"\r\n"
    s.sendall(req + b"\r\n")
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    if not buf:
        print("000 0 -")
        return
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")[1].decode()
    hdrs = {l.split(b":", 1)[0].lower().decode(): l.split(b":", 1)[1].strip().decode()
            for l in head.split(b"\r\n")[1:] if b":" in l}
    if "content-length" in hdrs:
        body = body[:int(hdrs["content-length"])]
    print(status, len(body), hashlib.sha256(body).hexdigest(), hdrs.get("content-range", "-"))


async def old(url, texts, seconds):
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        print("open", flush=True)
        for t in texts:
            await ws.send(t)
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            try:
                m = await asyncio.wait_for(ws.recv(), max(0.01, t_end - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if isinstance(m, bytes):
                print("binary", len(m), m[:2].hex(), m[-2:].hex(), flush=True)
            else:
                print("text", m, flush=True)


def main(argv):
    import argparse
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("cmd")
    p.add_argument("args", nargs="*")
    p.add_argument("--fps", type=float, default=30)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--count")
    p.add_argument("--out")
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--ids", default="all")
    p.add_argument("--send", action="append", default=[])
    a = p.parse_args(argv)
    if a.cmd == "phone":
        asyncio.run(phone(a.args[0], a.args[1], a.fps, a.seconds, a.count))
    elif a.cmd == "viewer":
        asyncio.run(viewer(a.args[0], a.out, a.seconds, a.delay_ms, a.ids))
    elif a.cmd == "stall":
        stall(a.args[0], a.seconds)
    elif a.cmd == "http":
        http(int(a.args[0]), a.args[1], a.args[2], a.args[3:])
    elif a.cmd == "old":
        asyncio.run(old(a.args[0], a.send, a.seconds))
    else:
        p.error("unknown command " + a.cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
