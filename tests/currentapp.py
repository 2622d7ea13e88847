#!/usr/bin/python3
"""The current Android camera app (MP4 segments as JSON text), for the tests.

usage: currentapp.py [--model NAME] [--no-deflate] [--wait-start] [--ids ID,...]
                     [--qr JSON] [--end stop|close|vanish] [--pid FILE] URL MP4...

Like the app (protocol.md section 5): connects offering permessage-deflate,
sends "ready" and its capabilities, then (after a start_capture with
--wait-start, whose segmentDuration it prints) capture_started, and each
MP4 as one text message {"type":"mp4_segment","segment_id":..,"data":
<base64>,"size":..,"qr_results":[..]}. With --end stop (default) the last
segment goes after capture_stopped, as the app sends it; close closes
without capture_stopped; vanish leaves without a close frame. Segment ids
are the app's yyyyMMdd_HHmmss_NN unless --ids names them.
Prints "start SECONDS" when a start_capture arrived, "sent N" at the end.
"""
import argparse
import asyncio
import base64
import json
import os
import sys
import time

import websockets


def message(path, sid, qr):
    with open(path, "rb") as f:
        mp4 = f.read()
    return json.dumps({"type": "mp4_segment", "segment_id": sid,
                       "data": base64.b64encode(mp4).decode(), "size": len(mp4),
                       "qr_results": qr}, separators=(",", ":"))


async def run(a):
    ids = a.ids.split(",") if a.ids else [
        time.strftime("%Y%m%d_%H%M%S", time.localtime()) + "_%02d" % (i % 100)
        for i in range(len(a.mp4))]
    qr = json.loads(a.qr)
    compression = None if a.no_deflate else "deflate"
    async with websockets.connect(a.url, max_size=None, compression=compression) as ws:
        if a.pid:
            with open(a.pid, "w") as f:
                f.write("%d\n" % os.getpid())
        await ws.send(json.dumps({"status": "ready", "message": "Client is ready to stream"}))
        await ws.send(json.dumps({"type": "capabilities", "deviceModel": a.model, "sdkInt": 35,
                                  "resolutions": [{"width": 1280, "height": 720}]}))
        if a.wait_start:
            while True:
                m = json.loads(await ws.recv())
                if m.get("command") == "start_capture" and "payload" in m:
                    print("start", m["payload"].get("segmentDuration", 60), flush=True)
                    break
        await ws.send(json.dumps({"status": "capture_started",
                                  "message": "Recording MP4 segments"}))
        last = len(a.mp4) - 1 if a.end == "stop" else len(a.mp4)
        for i in range(last):
            await ws.send(message(a.mp4[i], ids[i], qr))
        if a.end == "stop":
            await ws.send(json.dumps({"status": "capture_stopped", "message": "stopped"}))
            await asyncio.sleep(0.2)
            await ws.send(message(a.mp4[last], ids[last], qr))
        print("sent", len(a.mp4), flush=True)
        if a.end == "vanish":
            os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="Pixel 9")
    p.add_argument("--no-deflate", action="store_true")
    p.add_argument("--wait-start", action="store_true")
    p.add_argument("--ids")
    p.add_argument("--qr", default="[]")
    p.add_argument("--end", default="stop", choices=["stop", "close", "vanish"])
    p.add_argument("--pid")
    p.add_argument("url")
    p.add_argument("mp4", nargs="+")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
