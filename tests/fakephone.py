#!/usr/bin/python3
"""A camera that answers commands, for the ctl tests.

usage: fakephone.py [--esp] [--model NAME] [--answer ok|error|none]
                    [--timeout SECS] [--pid FILE] URL

As an Android phone (default) it sends the app's "ready" and capabilities
messages when the connection opens, answers start_capture with
capture_started and stop_capture with capture_stopped, as the app does.
With --esp it is an ESP32 board: plain-text commands, answered "ACK: ...",
"STATUS: ..." or "ERROR: ...".
--answer error answers every command with an error; none never answers.

Printed on stdout, flushed line by line: "open PORT" once connected (PORT
is the local port, as the server sees it), "text MSG" or "binary LEN" per
message received, "closed CODE" at the end. Exits when the server closes
the connection or after SECS (default 30) in all.
"""
import argparse
import asyncio
import json
import os
import sys

import websockets


def say(*words):
    print(*words, flush=True)


def android_reply(msg, answer):
    try:
        cmd = json.loads(msg)
        command = cmd.get("command")
    except (ValueError, AttributeError):
        command = None
    if answer == "error" or command not in ("start_capture", "stop_capture"):
        return json.dumps({"status": "error",
                           "message": "Invalid command received: " + msg})
    if command == "stop_capture":
        return json.dumps({"status": "capture_stopped",
                           "message": "Streaming stopped"})
    p = cmd.get("payload", {})
    ratio = p.get("aspectRatio")
    text = "Streaming H.264 at %s aspect ratio, %dMB bitrate (%dfps)" % (
        "%d:%d" % (ratio["width"], ratio["height"]) if ratio else "default",
        p.get("bitrate", 0), p.get("fps", 0))
    return json.dumps({"status": "capture_started", "message": text})


def esp_reply(msg, answer):
    words = msg.split()
    if answer == "error" or not words or words[0] not in ("start", "stop", "status"):
        return "ERROR: unknown command " + msg
    if words[0] == "status":
        return "STATUS: idle"
    return "ACK: " + msg


async def run(args):
    async with websockets.connect(args.url, ping_interval=None,
                                  close_timeout=2) as ws:
        if args.pid:
            with open(args.pid, "w") as f:
                f.write("%d\n" % os.getpid())
        if not args.esp:
            await ws.send(json.dumps({"status": "ready",
                                      "message": "Client is ready to stream"}))
            await ws.send(json.dumps({"type": "capabilities",
                                      "deviceModel": args.model, "sdkInt": 34,
                                      "resolutions": []}))
        say("open", ws.local_address[1])
        try:
            async for msg in ws:
                if isinstance(msg, bytes):
                    say("binary", len(msg))
                    continue
                say("text", msg)
                if args.answer == "none":
                    continue
                reply = esp_reply(msg, args.answer) if args.esp else \
                    android_reply(msg, args.answer)
                await ws.send(reply)
        except websockets.ConnectionClosed:
            pass
        say("closed", ws.close_code)


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--esp", action="store_true")
    p.add_argument("--model", default="Pixel 7")
    p.add_argument("--answer", choices=("ok", "error", "none"), default="ok")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--pid")
    p.add_argument("url")
    args = p.parse_args()
    try:
        asyncio.run(asyncio.wait_for(run(args), args.timeout))
    except asyncio.TimeoutError:
        say("timeout")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
