#!/usr/bin/python3
"""mkrec.py: write a camrec record stream from a small description, for tests.

An implementation of the record format (man/camrec-records.5) independent of
lib/rec.c, so that the C readers are checked against something else.

usage: mkrec.py [-o OUT] [DESC]          description from DESC or stdin
       mkrec.py --split CLIP             print the access units of CLIP: index size kind
       mkrec.py --cat CLIP FROM [COUNT]  write access units FROM.. of CLIP to stdout
       mkrec.py --frames [STREAM]         list the FRAME/BADFRAME records of a stream:
                                         type conn seq device_ms missing kind flags len
       mkrec.py --payloads CONN [STREAM] write the FRAME payloads of CONN to stdout
       mkrec.py --headers-once CLIP      write CLIP with SPS/PPS only at its start,
                                         like many Android encoders

Description lines (# comments, blank lines ignored); C is a connection id:
  at US                     set the arrival clock (microseconds)
  step US                   clock advance after each record (default 1000)
  open C [path=P] [addr=A] [port=N] [wall=US]
  text C MESSAGE...         a text message, the rest of the line verbatim
  started C [MESSAGE...]    {"status":"capture_started","message":...}
  stopped C                 {"status":"capture_stopped","message":"stopped"}
  caps C MODEL...           capabilities message naming deviceModel MODEL
  clip C FILE [seq=S] [ms=M] [dt=MS] [from=I] [count=N] [every=US] [skip=I,J]
                            the access units of an H.264 clip as frames; unit 0
                            is the codec config (device ms 0), then pictures
  frame C SEQ MS HEX        one frame with a correct header
  raw C HEX                 a binary message as given
  badlen C SEQ LENFIELD N   a frame header claiming LENFIELD bytes, then N bytes
  record TYPE C HEX         a record of any type with the given body
  close C [CODE [FLAGS]]    a CLOSE record (FLAGS: 1 clean, 2 by server)
  pause SECONDS             flush the output and sleep (pacing live tests)
  trunc N                   drop the last N bytes of the whole output
"""
import json
import struct
import sys
import time

OPEN, CLOSE, TEXT, BINARY = 1, 2, 3, 4


def nal_units(data):
    """(start offset incl. leading zero, nal header offset) of each NAL unit."""
    out = []
    i = 0
    n = len(data)
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0 or j + 3 >= n:
            break
        s = j - 1 if j > 0 and data[j - 1] == 0 else j
        out.append((s, j + 3))
        i = j + 3
    return out


def split_units(data):
    """Split an Annex-B clip into config packet + one access unit each."""
    nals = nal_units(data)
    if not nals:
        return [data]
    starts = []
    have_vcl = False
    config_done = False
    for k, (s, h) in enumerate(nals):
        t = data[h] & 0x1F
        vcl = 1 <= t <= 5
        if k == 0:
            starts.append(0)
        elif not config_done and t not in (7, 8):
            starts.append(s)        # end of the leading SPS/PPS: config packet
        elif have_vcl and (t in (6, 7, 8, 9) or (vcl and h + 1 < len(data) and data[h + 1] & 0x80)):
            starts.append(s)
            have_vcl = False
        if t not in (7, 8):
            config_done = True
        if vcl:
            have_vcl = True
    starts = sorted(set(starts))
    starts.append(len(data))
    return [data[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]


def kind_of(unit):
    types = [unit[h] & 0x1F for _, h in nal_units(unit)]
    if 5 in types:
        return "key"
    if 1 in types or 2 in types:
        return "delta"
    if 7 in types or 8 in types:
        return "config"
    return "unknown"


class Writer:
    def __init__(self, out):
        self.out = out
        self.t = 1_000_000
        self.step = 1000
        self.buf = bytearray(b"CAMREC\x01\x00")

    def rec(self, typ, conn, body, flags=0, advance=None):
        self.buf += struct.pack(">IHHQQ", len(body), typ, flags, conn, self.t) + body
        self.t += self.step if advance is None else advance

    def flush(self):
        self.out.write(self.buf)
        self.out.flush()
        self.buf = bytearray()


def frame(seq, ms, payload, length=None):
    if length is None:
        length = len(payload)
    return struct.pack(">QII", ms, seq & 0xFFFFFFFF, length) + payload


def opts(words):
    d = {}
    for w in words:
        k, _, v = w.partition("=")
        d[k] = v
    return d


def run(desc, out):
    w = Writer(out)
    trunc = 0
    for lineno, line in enumerate(desc.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split()
        cmd = word[0]
        rest = line.split(None, 2)[2] if len(word) > 2 else ""
        try:
            if cmd == "at":
                w.t = int(word[1])
            elif cmd == "step":
                w.step = int(word[1])
            elif cmd == "trunc":
                trunc = int(word[1])
            elif cmd == "pause":
                w.flush()
                time.sleep(float(word[1]))
            elif cmd == "open":
                c = int(word[1])
                o = opts(word[2:])
                addr = o.get("addr", "127.0.0.1").encode()
                path = o.get("path", "/android-cam").encode()
                port = int(o.get("port", 50000 + c))
                wall = int(o.get("wall", 1763743942123456))
                w.rec(OPEN, c, struct.pack(">qHHHH", wall, port, len(addr), len(path), 0) + addr + path)
            elif cmd == "text":
                w.rec(TEXT, int(word[1]), rest.encode())
            elif cmd == "started":
                msg = rest or "Streaming H.264 at 16:9 aspect ratio, 4MB bitrate (30fps)"
                w.rec(TEXT, int(word[1]), json.dumps({"status": "capture_started", "message": msg}).encode())
            elif cmd == "stopped":
                w.rec(TEXT, int(word[1]), b'{"status":"capture_stopped","message":"stopped"}')
            elif cmd == "caps":
                w.rec(TEXT, int(word[1]), json.dumps({"type": "capabilities", "deviceModel": rest,
                                                      "sdkInt": 34, "resolutions": []}).encode())
            elif cmd == "clip":
                c = int(word[1])
                o = opts(word[3:])
                with open(word[2], "rb") as f:
                    units = split_units(f.read())
                first = int(o.get("from", 0))
                count = int(o.get("count", len(units) - first))
                seq = int(o.get("seq", 1))
                ms = int(o.get("ms", 83412345))
                dt = int(o.get("dt", 33))
                every = int(o.get("every", 33333))
                skip = {int(x) for x in o.get("skip", "").split(",") if x}
                for i in range(first, min(first + count, len(units))):
                    dev = 0 if i == 0 else ms + (i - 1) * dt
                    if i not in skip:
                        w.rec(BINARY, c, frame(seq + i, dev, units[i]), advance=every)
                    else:
                        w.t += every
            elif cmd == "frame":
                w.rec(BINARY, int(word[1]), frame(int(word[2]), int(word[3]), bytes.fromhex(word[4])))
            elif cmd == "raw":
                w.rec(BINARY, int(word[1]), bytes.fromhex(word[2]) if len(word) > 2 else b"")
            elif cmd == "badlen":
                n = int(word[4])
                w.rec(BINARY, int(word[1]), frame(int(word[2]), 1000, b"\x00" * n, int(word[3])))
            elif cmd == "record":
                w.rec(int(word[1]), int(word[2]), bytes.fromhex(word[3]) if len(word) > 3 else b"")
            elif cmd == "close":
                code = int(word[2]) if len(word) > 2 else 1000
                flags = int(word[3]) if len(word) > 3 else 1
                w.rec(CLOSE, int(word[1]), struct.pack(">H", code) + b"bye", flags)
            else:
                raise ValueError("unknown command " + cmd)
        except (IndexError, ValueError, OSError) as e:
            sys.exit("mkrec.py: line %d: %s" % (lineno, e))
    if trunc:
        if len(w.buf) < trunc:
            sys.exit("mkrec.py: trunc needs an unpaced stream")
        del w.buf[len(w.buf) - trunc:]
    w.flush()


KINDS = {0: "unknown", 1: "config", 2: "key", 3: "delta"}


def read_records(f):
    """Yield (type, flags, conn, t_us, body) of a record stream."""
    if f.read(8)[:6] != b"CAMREC":
        sys.exit("mkrec.py: not a record stream")
    while True:
        h = f.read(24)
        if not h:
            return
        if len(h) < 24:
            sys.exit("mkrec.py: truncated record header")
        n, typ, flags, conn, t = struct.unpack(">IHHQQ", h)
        body = f.read(n)
        if len(body) < n:
            sys.exit("mkrec.py: truncated record body")
        yield typ, flags, conn, t, body


def main():
    args = sys.argv[1:]
    if args and args[0] in ("--frames", "--payloads"):
        want = int(args[1]) if args[0] == "--payloads" else None
        rest = args[2:] if want is not None else args[1:]
        f = open(rest[0], "rb") if rest else sys.stdin.buffer
        for typ, flags, conn, t, body in read_records(f):
            if want is not None:
                if typ == 16 and conn == want:
                    sys.stdout.buffer.write(body[20:])
            elif typ == 16:
                ms, seq, missing, kind, fl = struct.unpack(">QIIBB", body[:18])
                print("frame", conn, seq, ms, missing, KINDS.get(kind, kind), fl, len(body) - 20)
            elif typ == 17:
                seq, mlen, reason = struct.unpack(">IIH", body[:10])
                print("badframe", conn, seq, mlen, reason, body[12:].decode())
        return
    if args and args[0] == "--split":
        with open(args[1], "rb") as f:
            for i, u in enumerate(split_units(f.read())):
                print(i, len(u), kind_of(u))
        return
    if args and args[0] == "--headers-once":
        with open(args[1], "rb") as f:
            data = f.read()
        nals = nal_units(data) + [(len(data), len(data))]
        keep = bytearray(data[:nals[0][0]])
        seen_picture = False
        for k in range(len(nals) - 1):
            s, h = nals[k]
            t = data[h] & 0x1F
            if 1 <= t <= 5:
                seen_picture = True
            if not (seen_picture and t in (7, 8)):
                keep += data[s:nals[k + 1][0]]
        sys.stdout.buffer.write(bytes(keep))
        return
    if args and args[0] == "--cat":
        with open(args[1], "rb") as f:
            units = split_units(f.read())
        first = int(args[2])
        count = int(args[3]) if len(args) > 3 else len(units) - first
        sys.stdout.buffer.write(b"".join(units[first:first + count]))
        return
    out = sys.stdout.buffer
    if len(args) >= 2 and args[0] == "-o":
        out = open(args[1], "wb")
        args = args[2:]
    desc = open(args[0]).read() if args else sys.stdin.read()
    run(desc, out)


if __name__ == "__main__":
    main()
