#!/usr/bin/python3
"""An Android camera app for the tests: sends an H.264 clip over WebSocket.

usage: androidcam.py [--model NAME] [--race N] [--fps F] [--seq S]
                     [--end stop|close|vanish|wait] [--pid FILE] URL CLIP

Like the app: "ready", the capabilities message, then the clip cut into a
codec config packet (device time 0) and one access unit per binary message
with the 16-byte header. --race sends the first N messages before
capture_started (the app's status thread races its frames). --end: stop
sends capture_stopped and closes (default), close just closes, vanish
leaves without a close frame, wait stays until the server closes.
Prints "sent N" when the clip is out.
"""
import argparse
import asyncio
import json
import os
import struct
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkrec import split_units  # noqa: E402


async def run(a):
    with open(a.clip, "rb") as f:
        units = split_units(f.read())
    started = json.dumps({"status": "capture_started",
                          "message": "Streaming H.264 at 16:9 aspect ratio, 4MB bitrate (30fps)"})
    async with websockets.connect(a.url, max_size=None, compression=None) as ws:
        if a.pid:
            with open(a.pid, "w") as f:
                f.write("%d\n" % os.getpid())
        await ws.send(json.dumps({"status": "ready", "message": "Client is ready to stream"}))
        await ws.send(json.dumps({"type": "capabilities", "deviceModel": a.model, "sdkInt": 34,
                                  "resolutions": [{"width": 320, "height": 240}]}))
        for i, u in enumerate(units):
            if i == a.race:
                await ws.send(started)
            ms = 0 if i == 0 else 83412345 + (i - 1) * 33
            await ws.send(struct.pack(">QII", ms, a.seq + i, len(u)) + u)
            await asyncio.sleep(1 / a.fps)
        if a.race >= len(units):
            await ws.send(started)
        print("sent", len(units), flush=True)
        if a.end == "stop":
            await ws.send(json.dumps({"status": "capture_stopped", "message": "stopped"}))
        elif a.end == "vanish":
            sys.stdout.flush()
            os._exit(0)
        elif a.end == "wait":
            try:
                await ws.wait_closed()
            except websockets.ConnectionClosed:
                pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="Pixel 7")
    p.add_argument("--race", type=int, default=0)
    p.add_argument("--fps", type=float, default=100)
    p.add_argument("--seq", type=int, default=1)
    p.add_argument("--end", default="stop", choices=["stop", "close", "vanish", "wait"])
    p.add_argument("--pid")
    p.add_argument("url")
    p.add_argument("clip")
    a = p.parse_args()
    asyncio.run(run(a))


if __name__ == "__main__":
    main()
