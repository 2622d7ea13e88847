#!/usr/bin/python3
"""Print the bodies of records in a camrec record stream, for tests.

usage: recbody.py [--type NAME] [--conn ID] [--index N] [FILE]

Writes the body of every matching record (or only the N-th match, from 0)
to stdout, unchanged; OPEN and CLOSE bodies are raw bytes too.
"""
import argparse
import struct
import sys

TYPES = {"open": 1, "close": 2, "text": 3, "binary": 4, "sent": 5,
         "frame": 16, "badframe": 17, "segment": 18, "badsegment": 19,
         "image": 20, "badimage": 21}


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--type")
    p.add_argument("--conn", type=int)
    p.add_argument("--index", type=int)
    p.add_argument("file", nargs="?")
    a = p.parse_args()
    data = open(a.file, "rb").read() if a.file else sys.stdin.buffer.read()
    if data[:6] != b"CAMREC":
        print("recbody: not a record stream", file=sys.stderr)
        return 3
    off, n, out = 8, 0, sys.stdout.buffer
    while off + 24 <= len(data):
        length, rtype, _, conn, _ = struct.unpack(">IHHQQ", data[off:off + 24])
        body = data[off + 24:off + 24 + length]
        off += 24 + length
        if a.type and TYPES[a.type] != rtype:
            continue
        if a.conn is not None and conn != a.conn:
            continue
        if a.index is None or a.index == n:
            out.write(body)
        n += 1
    if off != len(data):
        print("recbody: truncated stream", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
