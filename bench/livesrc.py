#!/usr/bin/python3
"""bench/livesrc.py: the live relay benchmark's source. Writes fragmented
MP4 in the shape liverelay cuts (an init segment, then moof + mdat
fragments, every --gop-th one a key by its trun flags) at --rate bits per
second in --fps fragments a second, on stdout, until killed. The first 8
bytes of each mdat's payload are CLOCK_MONOTONIC in microseconds at the
moment the fragment is written, so a viewer measures the relay's added
latency from write to receive (bench/liveload.c)."""
import argparse
import os
import struct
import time


def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def fragment(seq, key, size):
    mfhd = box(b"mfhd", struct.pack(">II", 0, seq))
    tfhd = box(b"tfhd", struct.pack(">II", 0, 1))
    # trun flag 0x4: first_sample_flags follows; a sync sample has
    # sample_depends_on 2 and not sample_is_non_sync_sample (0x10000).
    flags = 0x02000000 if key else 0x01010000
    trun = box(b"trun", struct.pack(">III", 0x4, 1, flags))
    moof = box(b"moof", mfhd + box(b"traf", tfhd + trun))
    body = size - len(moof) - 8
    return moof, body


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=4e6, help="bits per second")
    p.add_argument("--fps", type=float, default=25)
    p.add_argument("--gop", type=int, default=25)
    a = p.parse_args()
    size = int(a.rate / 8 / a.fps)
    filler = bytes(size)
    out = 1
    os.write(out, box(b"ftyp", b"isom\0\0\2\0isomiso6") + box(b"moov", b""))
    start = time.monotonic()
    seq = 0
    while True:
        moof, body = fragment(seq + 1, seq % a.gop == 0, size)
        due = start + seq / a.fps
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        stamp = struct.pack(">Q", time.monotonic_ns() // 1000)
        data = moof + struct.pack(">I4s", 8 + body, b"mdat") + stamp + filler[:body - 8]
        view = memoryview(data)
        while view:
            view = view[os.write(out, view):]
        seq += 1


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
