#!/usr/bin/python3
"""The current phone app's MP4 segments, for tests, independent of the C code.

usage: segment.py msg MP4 ID [size=N] [data=TEXT] [qr=JSON]
           print the app's text message for MP4 (size and data as given
           when set, to make bad ones)
       segment.py list [STREAM]
           one line per segment/badsegment record of a record stream:
           segment CONN ID SIZE MP4LEN QR | badsegment CONN ID REASON TEXT
       segment.py mp4 STREAM K OUT
           write the MP4 of the K-th segment record (1-based) to OUT
"""
import base64
import json
import struct
import sys

SEGMENT, BADSEGMENT = 18, 19


def records(data):
    assert data[:6] == b"CAMREC", "not a record stream"
    off = 8
    while off < len(data):
        n, typ, _flags, conn, _t = struct.unpack(">IHHQQ", data[off:off + 24])
        yield typ, conn, data[off + 24:off + 24 + n]
        off += 24 + n


def msg(argv):
    mp4 = open(argv[0], "rb").read()
    m = {"type": "mp4_segment", "segment_id": argv[1],
         "data": base64.b64encode(mp4).decode(), "size": len(mp4),
         "qr_results": []}
    for a in argv[2:]:
        k, v = a.split("=", 1)
        m[{"size": "size", "data": "data", "qr": "qr_results"}[k]] = (
            int(v) if k == "size" else json.loads(v) if k == "qr" else v)
    print(json.dumps(m, separators=(",", ":")))


def listing(argv):
    data = open(argv[0], "rb").read() if argv else sys.stdin.buffer.read()
    for typ, conn, body in records(data):
        if typ == SEGMENT:
            size, idl, _r, qrl = struct.unpack(">QHHI", body[:16])
            sid = body[16:16 + idl]
            qr = body[16 + idl:16 + idl + qrl]
            mp4 = body[16 + idl + qrl:]
            print("segment", conn, repr(sid.decode(errors="replace")), size, len(mp4),
                  qr.decode())
        elif typ == BADSEGMENT:
            _len, reason, idl = struct.unpack(">IHH", body[:8])
            sid = body[8:8 + idl]
            print("badsegment", conn, repr(sid.decode(errors="replace")), reason,
                  body[8 + idl:].decode())


def mp4(argv):
    k = 0
    for typ, _conn, body in records(open(argv[0], "rb").read()):
        if typ == SEGMENT:
            k += 1
            if k == int(argv[1]):
                _s, idl, _r, qrl = struct.unpack(">QHHI", body[:16])
                open(argv[2], "wb").write(body[16 + idl + qrl:])
                return
    sys.exit("no segment %s" % argv[1])


if __name__ == "__main__":
    {"msg": msg, "list": listing, "mp4": mp4}[sys.argv[1]](sys.argv[2:])
