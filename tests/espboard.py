#!/usr/bin/python3
"""An ESP32 board as far as the wire goes: the handshake exactly as
arduinoWebSockets writes it (subprotocol "arduino", its User-Agent), then
JPEG-like binary messages, one text, and a close.

usage: espboard.py PORT PATH COUNT [PROTOCOL]

Prints the response's status line and its Sec-WebSocket-Protocol ("-" when
absent); if the handshake succeeded, "text" after the text message and
"closed CODE" when the server answers the close. On stderr: "sent COUNT
SHA256" of the images concatenated. Exit 1 when the handshake fails.
"""
import base64
import hashlib
import os
import socket
import struct
import sys

TEXT = "ACK: 开始采集 (分辨率: HD, 质量: 12)"


def frame(opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def image(n):
    """A JPEG-shaped payload: SOI, an APP0 marker, noise, EOI."""
    return b"\xff\xd8\xff\xe0" + os.urandom(n - 6) + b"\xff\xd9"


def main():
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    proto = sys.argv[4] if len(sys.argv) > 4 else "arduino"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\n"
               "Host: 127.0.0.1:%d\r\n"
               "Connection: Upgrade\r\n"
               "Upgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Protocol: %s\r\n"
               "Origin: file://\r\n"
               "User-Agent: arduino-WebSocket-Client\r\n"
               "\r\n" % (path, port, key, proto)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        try:
            got = s.recv(4096)
        except OSError:
            got = b""
        if not got:
            print("no response", flush=True)
            return 1
        resp += got
    head, _, rest = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    print(lines[0], flush=True)
    hdrs = {k.strip().lower(): v.strip() for k, _, v in
            (l.partition(":") for l in lines[1:])}
    print("protocol", hdrs.get("sec-websocket-protocol", "-"), flush=True)
    if not lines[0].startswith("HTTP/1.1 101"):
        return 1
    h = hashlib.sha256()
    for i in range(count):
        # Small, medium (16-bit length) and large (64-bit length) frames.
        data = image((200, 30000, 70000)[i % 3] + i)
        h.update(data)
        s.sendall(frame(2, data))
    print("sent", count, h.hexdigest(), file=sys.stderr, flush=True)
    s.sendall(frame(1, TEXT.encode()))
    print("text", flush=True)
    s.sendall(frame(8, struct.pack(">H", 1000)))
    while len(rest) < 4:
        got = s.recv(4096)
        if not got:
            break
        rest += got
    if len(rest) >= 4 and rest[0] & 0x0f == 8:
        print("closed", struct.unpack(">H", rest[2:4])[0], flush=True)
    s.close()
    return 0


sys.exit(main())
