#!/usr/bin/python3
"""A decompression bomb for wsrecv's tests: offers permessage-deflate and
sends one text message of BYTES spaces, deflated by hand (a few hundred
bytes per MiB), in one frame.

usage: wsrecv_bomb.py PORT BYTES

Prints the extension the server accepted ("-" for none), "sent N" with the
compressed size, then "closed CODE REASON" from the server's close frame,
or "dropped" when the connection ends without one.
"""
import base64
import os
import socket
import struct
import sys
import zlib


def main():
    port, size = int(sys.argv[1]), int(sys.argv[2])
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(("GET /bomb HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; "
               "client_max_window_bits\r\n\r\n"
               % (port, base64.b64encode(os.urandom(16)).decode())).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        got = s.recv(4096)
        if not got:
            print("no response")
            return 1
        resp += got
    head, _, rest = resp.partition(b"\r\n\r\n")
    ext = "-"
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "sec-websocket-extensions":
            ext = v.strip()
    print(ext, flush=True)
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, body, left = b" " * (1 << 20), [], size
    while left > 0:
        body.append(z.compress(chunk[:min(left, len(chunk))]))
        left -= len(chunk)
    body.append(z.flush(zlib.Z_SYNC_FLUSH))
    data = b"".join(body)[:-4]
    print("sent", len(data), flush=True)
    hdr = bytes([0xc1, 0x80 | 127]) + struct.pack(">Q", len(data)) + b"\0\0\0\0"
    try:
        s.sendall(hdr + data)
        while True:
            while len(rest) < 2:
                got = s.recv(65536)
                if not got:
                    raise ConnectionError
                rest += got
            n = rest[1] & 0x7f
            while len(rest) < 2 + n:
                got = s.recv(65536)
                if not got:
                    raise ConnectionError
                rest += got
            if rest[0] & 0x0f == 8:
                code = struct.unpack(">H", rest[2:4])[0] if n >= 2 else 1005
                print("closed", code, rest[4:2 + n].decode(), flush=True)
                return 0
            rest = rest[2 + n:]
    except (ConnectionError, OSError):
        print("dropped", flush=True)
        return 0


sys.exit(main())
