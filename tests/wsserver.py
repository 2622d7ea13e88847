#!/usr/bin/python3
"""Minimal WebSocket server for the tests: an independent peer for camsim.

Logs every event as one JSON line (open, text, binary, close) and sends
scripted commands a given time after each connection opens.

usage: wsserver.py --port P [--log FILE] [--dump DIR] [--raw] [--count-only]
                   [--send SECONDS:MESSAGE]...
  --dump DIR     append each connection's binary payloads to DIR/conn<N>.bin
                 (after the 16-byte header, or whole messages with --raw)
  --raw          binary messages have no camera header (ESP JPEGs)
  --count-only   log no binary events, only totals at close
  --send S:MSG   send text MSG S seconds after each connection opens
"""
import argparse
import asyncio
import json
import os
import struct
import sys
import time

import websockets

args = None
log = None
next_conn = 0


def emit(**ev):
    ev["t"] = time.monotonic()
    log.write(json.dumps(ev) + "\n")
    log.flush()


async def sender(ws, conn):
    start = time.monotonic()
    for delay, msg in args.send:
        wait = start + delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await ws.send(msg)
        emit(ev="sent", conn=conn, data=msg)


async def handler(ws):
    global next_conn
    next_conn += 1
    conn = next_conn
    frames = 0
    nbytes = 0
    emit(ev="open", conn=conn, path=ws.path)
    dump = None
    if args.dump:
        dump = open(os.path.join(args.dump, "conn%d.bin" % conn), "wb")
    task = asyncio.ensure_future(sender(ws, conn))
    try:
        async for msg in ws:
            if isinstance(msg, str):
                emit(ev="text", conn=conn, data=msg)
                continue
            frames += 1
            nbytes += len(msg)
            if args.raw:
                if dump:
                    dump.write(msg)
                if not args.count_only:
                    emit(ev="binary", conn=conn, len=len(msg),
                         head=msg[:2].hex(), tail=msg[-2:].hex())
                continue
            if len(msg) < 16:
                emit(ev="binary", conn=conn, len=len(msg), short=True)
                continue
            ts, seq, plen = struct.unpack(">QII", msg[:16])
            if dump:
                dump.write(msg[16:])
            if not args.count_only:
                emit(ev="binary", conn=conn, len=len(msg), ts=ts, seq=seq,
                     plen=plen)
    except websockets.ConnectionClosed:
        pass
    finally:
        task.cancel()
        if dump:
            dump.close()
        emit(ev="close", conn=conn, code=ws.close_code,
             reason=ws.close_reason, frames=frames, bytes=nbytes)


def send_arg(s):
    delay, _, msg = s.partition(":")
    return (float(delay), msg)


async def main():
    async with websockets.serve(handler, "127.0.0.1", args.port,
                                ping_interval=None, max_size=None,
                                compression=None):
        await asyncio.Future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log")
    p.add_argument("--dump")
    p.add_argument("--raw", action="store_true")
    p.add_argument("--count-only", action="store_true")
    p.add_argument("--send", type=send_arg, action="append", default=[])
    args = p.parse_args()
    args.send.sort(key=lambda x: x[0])
    log = open(args.log, "a") if args.log else sys.stdout
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
