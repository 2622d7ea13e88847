#!/usr/bin/python3
"""A scriptable WebSocket client for the camrec tests.

usage: wsclient.py [options] URL [STEP...]

Steps run in order:
  t:TEXT          send a text message
  tf:FILE         send the contents of FILE as a text message
  b:HEX           send a binary message given in hex
  bf:FILE         send the contents of FILE as a binary message
  rand:N          send N random bytes as a binary message (sha256 on stderr)
  randx:COUNT:N   send COUNT such messages (one line on stderr: total, sha256
                  of all of them concatenated)
  sleep:SECS      wait
  recv:N          wait for N messages and print them
  recvall         print messages until the server closes the connection
  close[:CODE[:REASON]]  close the connection (default 1000)
  vanish          leave at once without a close frame (os._exit)

Printed on stdout, flushed line by line: "open" once connected, then
"text MSG" or "binary LEN SHA256" per received message, "closed CODE REASON"
when the connection ends and "done" after the last step.

options:
  --frag N        send each message in fragments of N bytes
  --deflate       offer permessage-deflate (off by default)
  --timeout SECS  give up on any wait after SECS (default 20), exit 3
  --pid FILE      write the process id to FILE once connected
"""
import argparse
import asyncio
import hashlib
import os
import sys

import websockets


def say(*words):
    print(*words, flush=True)


def chunks(data, n):
    for i in range(0, len(data), n):
        yield data[i:i + n]


def show(msg):
    if isinstance(msg, str):
        say("text", msg)
    else:
        say("binary", len(msg), hashlib.sha256(msg).hexdigest())


async def send(ws, data, frag):
    if frag and len(data) > frag:
        await ws.send(chunks(data, frag))
    else:
        await ws.send(data)


async def run(args):
    ws = await asyncio.wait_for(websockets.connect(
        args.url, compression="deflate" if args.deflate else None,
        ping_interval=None, max_size=None, close_timeout=5),
        args.timeout)
    if args.pid:
        with open(args.pid, "w") as f:
            f.write("%d\n" % os.getpid())
    say("open")
    try:
        for step in args.steps:
            kind, _, arg = step.partition(":")
            if kind == "t":
                await send(ws, arg, args.frag)
            elif kind == "tf":
                with open(arg, encoding="utf-8") as f:
                    await send(ws, f.read(), args.frag)
            elif kind == "b":
                await send(ws, bytes.fromhex(arg), args.frag)
            elif kind == "bf":
                with open(arg, "rb") as f:
                    await send(ws, f.read(), args.frag)
            elif kind == "rand":
                data = os.urandom(int(arg))
                print("sent", len(data), hashlib.sha256(data).hexdigest(),
                      file=sys.stderr, flush=True)
                await send(ws, data, args.frag)
            elif kind == "randx":
                count, _, size = arg.partition(":")
                h, total = hashlib.sha256(), 0
                for _ in range(int(count)):
                    data = os.urandom(int(size))
                    h.update(data)
                    total += len(data)
                    await send(ws, data, args.frag)
                print("sent", total, h.hexdigest(), file=sys.stderr, flush=True)
            elif kind == "sleep":
                await asyncio.sleep(float(arg))
            elif kind == "recv":
                for _ in range(int(arg)):
                    show(await asyncio.wait_for(ws.recv(), args.timeout))
            elif kind == "recvall":
                while True:
                    show(await asyncio.wait_for(ws.recv(), args.timeout))
            elif kind == "close":
                code, _, reason = arg.partition(":")
                await ws.close(int(code) if code else 1000, reason)
                say("closed", ws.close_code, ws.close_reason)
            elif kind == "vanish":
                say("vanish")
                os._exit(0)
            else:
                print("wsclient: unknown step", step, file=sys.stderr)
                return 2
    except websockets.ConnectionClosed:
        say("closed", ws.close_code, ws.close_reason)
    say("done")
    await ws.close()
    return 0


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--frag", type=int, default=0)
    p.add_argument("--deflate", action="store_true")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--pid")
    p.add_argument("url")
    p.add_argument("steps", nargs="*")
    args = p.parse_args()
    try:
        return asyncio.run(run(args))
    except asyncio.TimeoutError:
        print("wsclient: timed out", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
