#!/usr/bin/python3
"""An ESP32 board that sends a script of binary messages, for the tests.

usage: espsend.py URL JPEG STEP...

Connects with python3-websockets (asking for the "arduino" subprotocol as
the board's library does), then runs the steps in order and closes:
  good      send JPEG (a file) as one message
  nosoi     send JPEG without its first two bytes (no FF D8 at the start)
  noeoi     send JPEG without its last two bytes (no FF D9 at the end)
  tiny      send 3 bytes
  sleep:S   wait S seconds
  text:MSG  send MSG as a text message
  reply:MSG wait for the next text message from the server, then send MSG
Prints "open PORT" (its local port) once connected, "done" before closing.
"""
import asyncio
import sys

import websockets


async def main():
    url, jpeg, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
    data = open(jpeg, "rb").read()
    async with websockets.connect(url, subprotocols=["arduino"],
                                  compression=None) as ws:
        print("open", ws.local_address[1], flush=True)
        for step in steps:
            if step == "good":
                await ws.send(data)
            elif step == "nosoi":
                await ws.send(data[2:])
            elif step == "noeoi":
                await ws.send(data[:-2])
            elif step == "tiny":
                await ws.send(b"\xff\xd8\xff")
            elif step.startswith("sleep:"):
                await asyncio.sleep(float(step[6:]))
            elif step.startswith("text:"):
                await ws.send(step[5:])
            elif step.startswith("reply:"):
                while isinstance(await ws.recv(), bytes):
                    pass
                await ws.send(step[6:])
            else:
                print("espsend: unknown step", step, file=sys.stderr)
                return 2
        print("done", flush=True)
    return 0


sys.exit(asyncio.run(main()))
