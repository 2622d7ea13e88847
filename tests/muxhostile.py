#!/usr/bin/python3
"""Rewrite a session folder (stream.h264 + index.tsv) with a hostile
picture inserted: SIZE bytes of 00 00 01 01, a NAL unit every 4 bytes,
as COUNT delta pictures after picture AFTER (1-based, config not counted).

usage: muxhostile.py DIR AFTER SIZE [COUNT]
"""
import sys

def main(argv):
    d, after, size = argv[1], int(argv[2]), int(argv[3])
    count = int(argv[4]) if len(argv) > 4 else 1
    stream = open(d + "/stream.h264", "rb").read()
    lines = open(d + "/index.tsv").read().splitlines()
    header, rows = lines[0], [l.split("\t") for l in lines[1:]]
    junk = b"\x00\x00\x01\x01" * (size // 4)
    out, index, pics = bytearray(), [header], 0
    seq = int(rows[0][0])
    for r in rows:
        off, n = int(r[3]), int(r[4])
        index.append("\t".join([str(seq), r[1], r[2], str(len(out)), str(n), r[5]]))
        out += stream[off:off + n]
        seq += 1
        if r[5] != "config":
            pics += 1
        if pics == after and r[5] != "config":
            for _ in range(count):
                index.append("\t".join([str(seq), str(int(r[1]) + 1), r[2],
                                        str(len(out)), str(len(junk)), "delta"]))
                out += junk
                seq += 1
            pics += 1  # only once
    open(d + "/stream.h264", "wb").write(out)
    open(d + "/index.tsv", "w").write("\n".join(index) + "\n")

if __name__ == "__main__":
    main(sys.argv)
