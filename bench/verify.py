#!/usr/bin/python3
"""Check every recording of a benchmark run against the clip camsim sent.

usage: verify.py CLIP RECORDINGS_DIR

camsim sends the clip's parameter sets once, then its access units over and
over; so every stream.h264 must be the clip followed by the clip without its
leading parameter sets, repeated, cut at a frame boundary, and its index must
cover it exactly. Prints "sessions=N frames=N packets=N bytes=N lag_growth_ms=X
max_lag_ms=Y" (frames: pictures; packets: every message, config included); exits 1 on the first mismatch.

Lag is arrival time minus device time, relative to the session's first
frame; its growth is the median lag of the last second minus that of the
first second (a pipeline that falls behind shows a growing lag).
"""
import os
import sys


def config_len(clip):
    """Bytes of the leading SPS/PPS: the config packet camsim sends once."""
    i = 0
    while True:
        j = clip.find(b"\x00\x00\x01", i)
        if j < 0:
            return 0
        t = clip[j + 3] & 0x1F
        if t not in (7, 8):
            return j - 1 if j > 0 and clip[j - 1] == 0 else j
        i = j + 3


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0.0


def main():
    clip = open(sys.argv[1], "rb").read()
    body = clip[config_len(clip):]
    sessions = frames = packets = total = 0
    growth = maxlag = 0.0
    for name in sorted(os.listdir(sys.argv[2])):
        if name.startswith("."):
            continue    # the recorder's lock file
        d = os.path.join(sys.argv[2], name)
        data = open(os.path.join(d, "stream.h264"), "rb").read()
        rows = [l.split("\t") for l in open(os.path.join(d, "index.tsv")) if not l.startswith("#")]
        end = int(rows[-1][3]) + int(rows[-1][4]) if rows else 0
        if end != len(data):
            sys.exit("%s: index ends at %d, stream has %d bytes" % (d, end, len(data)))
        # Compare against clip + body*k without building it whole.
        if data[:len(clip)] != clip[:len(data)]:
            sys.exit("%s: first loop differs from the clip" % d)
        pos = len(clip)
        while pos < len(data):
            chunk = data[pos:pos + len(body)]
            if chunk != body[:len(chunk)]:
                sys.exit("%s: bytes differ from the clip after offset %d" % (d, pos))
            pos += len(body)
        seqs = [int(r[0]) for r in rows]
        if any(b - a != 1 for a, b in zip(seqs, seqs[1:])):
            sys.exit("%s: sequence gaps: frames were lost" % d)
        pics = [(int(r[1]), int(r[2])) for r in rows if r[5].strip() in ("key", "delta")]
        if pics:
            d0, a0 = pics[0]
            lags = [((a - a0) / 1000.0 - (dv - d0), dv - d0) for dv, a in pics]
            span = lags[-1][1]
            first = [l for l, t in lags if t <= 1000]
            last = [l for l, t in lags if t >= span - 1000]
            growth = max(growth, median(last) - median(first))
            maxlag = max(maxlag, max(l for l, _ in lags))
        sessions += 1
        frames += len(pics)
        packets += len(rows)
        total += len(data)
    print("sessions=%d frames=%d packets=%d bytes=%d lag_growth_ms=%.1f max_lag_ms=%.1f"
          % (sessions, frames, packets, total, growth, maxlag))


main()
