#!/usr/bin/python3
"""A live relay viewer for the tests: python3-websockets, independent of
the relay's code. Binary messages are appended to --out (one file, as a
player would append them), text messages to --texts one a line. Ends after
--messages binary messages, after --seconds, or when the relay closes, and
prints "messages N bytes N close CODE REASON". For wsrecv's /live/ID,
whose messages are previews (a 20-byte header, then an access unit),
--strip 20 leaves the access units in --out and --heads writes each
message's type and flags, one "TYPE FLAGS" line per message. --stall reads nothing after
connecting, with a small socket buffer, so the relay sees a stalled viewer.
"""
import argparse
import asyncio
import os
import socket
import sys
import time
import urllib.parse

import websockets


async def view(args):
    url = urllib.parse.urlparse(args.url)
    if args.after:
        # Started ahead (python is slow to start on a loaded machine),
        # connects the moment the test says.
        deadline = time.monotonic() + args.seconds
        while not os.path.exists(args.after) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    sock = socket.socket()
    if args.stall:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((url.hostname, url.port))
    sock.setblocking(False)
    out = open(args.out, "ab") if args.out else None
    texts = open(args.texts, "a") if args.texts else None
    heads = open(args.heads, "a") if args.heads else None
    count = nbytes = 0
    code, reason = "none", ""
    deadline = time.monotonic() + args.seconds
    async with websockets.connect(args.url, sock=sock, max_size=None,
                                  max_queue=1 if args.stall else 64,
                                  read_limit=4096 if args.stall else 2 ** 20,
                                  ping_interval=None) as ws:
        if args.ready:
            open(args.ready, "w").close()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if args.stall:
                    await asyncio.sleep(min(left, 0.2))
                    continue
                try:
                    msg = await asyncio.wait_for(ws.recv(), left)
                except asyncio.TimeoutError:
                    break
                if isinstance(msg, str):
                    if texts:
                        texts.write(msg + "\n")
                        texts.flush()
                    continue
                count += 1
                nbytes += len(msg)
                if heads:
                    heads.write("%d %d\n" % (msg[0], msg[1]) if len(msg) >= 2 else "short\n")
                    heads.flush()
                if out:
                    out.write(msg[args.strip:])
                    out.flush()
                if args.messages and count >= args.messages:
                    break
        except websockets.ConnectionClosed:
            pass
        if ws.close_code is not None:
            code, reason = ws.close_code, ws.close_reason
    print("messages %d bytes %d close %s %s" % (count, nbytes, code, reason))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--out")
    p.add_argument("--texts")
    p.add_argument("--strip", type=int, default=0, help="bytes off each binary message's start")
    p.add_argument("--heads", help="each binary message's first two bytes, as numbers")
    p.add_argument("--ready", help="file created once connected")
    p.add_argument("--after", help="connect only once this file exists")
    p.add_argument("--messages", type=int, default=0)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--stall", action="store_true")
    args = p.parse_args()
    asyncio.run(view(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
