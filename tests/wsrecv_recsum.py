#!/usr/bin/python3
"""Sum up a record stream read from stdin without keeping it: one line per
TEXT or BINARY record, "text LEN SHA256" or "binary LEN SHA256", and one
per CLOSE record, "close CODE", for wsrecv's tests with large messages.

usage: wsrecv_recsum.py < records
"""
import hashlib
import struct
import sys

NAMES = {3: "text", 4: "binary"}


def main():
    f = sys.stdin.buffer
    if f.read(8)[:6] != b"CAMREC":
        print("wsrecv_recsum: not a record stream", file=sys.stderr)
        return 3
    while True:
        head = f.read(24)
        if len(head) < 24:
            return 0 if not head else 1
        length, rtype, _, _, _ = struct.unpack(">IHHQQ", head)
        body = f.read(length)
        if rtype in NAMES:
            print(NAMES[rtype], length, hashlib.sha256(body).hexdigest())
        elif rtype == 2:
            print("close", struct.unpack(">H", body[:2])[0])
        sys.stdout.flush()


sys.exit(main())
