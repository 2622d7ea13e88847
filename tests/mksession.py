#!/usr/bin/python3
"""Build a session folder (stream.h264 + index.tsv) from x264 clips made
with -x264-params aud=1, the way an Android phone's stream arrives: a
config packet (SPS+PPS, device time 0) first, then one access unit per
payload at irregular device times (drops, bursts, jitter).

usage: mksession.py [--keep-ps] [--seed N] [--step MS] OUTDIR CLIP...
Every further clip starts with its own config packet, as when the encoder
is reconfigured (a phone rotating). --keep-ps leaves SPS/PPS inside the key
frames too; otherwise they appear only in the config packets. --step sets
the usual spacing of device times in ms (default 33).
"""
import random
import sys

def nals(data):
    """(type, bytes with start code) for every NAL unit."""
    starts = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        s = i - 1 if i > 0 and data[i - 1] == 0 else i
        starts.append((s, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    out = []
    for k, (s, b) in enumerate(starts):
        e = starts[k + 1][0] if k + 1 < len(starts) else len(data)
        out.append((data[b] & 0x1F, data[s:e]))
    return out

def access_units(data):
    aus = []
    for t, n in nals(data):
        if t == 9 or not aus:
            aus.append([])
        aus[-1].append((t, n))
    return aus

def main(argv):
    keep_ps = False
    seed = 1
    step = 33
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--keep-ps":
            keep_ps = True
        elif opt == "--seed":
            seed = int(argv.pop(0))
        elif opt == "--step":
            step = int(argv.pop(0))
        else:
            sys.exit("mksession.py: unknown option " + opt)
    if len(argv) < 2:
        sys.exit(__doc__)
    outdir, clips = argv[0], argv[1:]
    rnd = random.Random(seed)
    stream = bytearray()
    lines = ["#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind\n"]
    seq = 1000
    ms = 83412345
    arrival = 5000000000

    def put(payload, device_ms, kind):
        nonlocal seq, arrival
        lines.append("%d\t%d\t%d\t%d\t%d\t%s\n" % (seq, device_ms, arrival, len(stream),
                                                   len(payload), kind))
        stream.extend(payload)
        seq += 1
        arrival += 33000

    for clip in clips:
        aus = access_units(open(clip, "rb").read())
        ps = b"".join(n for t, n in aus[0] if t in (7, 8))
        put(ps, 0, "config")
        for au in aus:
            key = any(t == 5 for t, _ in au)
            payload = b"".join(n for t, n in au if keep_ps or t not in (7, 8))
            put(payload, ms, "key" if key else "delta")
            r = rnd.random()
            if r < 0.08:
                ms += rnd.choice((67, 100, 250))    # frames dropped
            elif r < 0.16:
                ms += rnd.randint(1, 8)             # a burst
            else:
                ms += rnd.randint(step - 5, step + 6)   # jitter
    open(outdir + "/stream.h264", "wb").write(stream)
    open(outdir + "/index.tsv", "w").write("".join(lines))

main(sys.argv[1:])
