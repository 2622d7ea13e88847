#!/usr/bin/python3
# sps_notiming.py IN OUT: copy an Annex-B H.264 file, rewriting every SPS so
# its VUI says timing_info_present_flag 0 (ffmpeg's h264_metadata can set
# the tick rate but never remove it). An independent bit parser, so the
# tests do not check camrec's SPS reader against itself.
import re
import sys

HIGH = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def unescape(b):
    return re.sub(b'\x00\x00\x03', b'\x00\x00', b)


def escape(b):
    out = bytearray()
    zeros = 0
    for c in b:
        if zeros >= 2 and c <= 3:
            out.append(3)
            zeros = 0
        out.append(c)
        zeros = zeros + 1 if c == 0 else 0
    return bytes(out)


class Bits:
    def __init__(self, data):
        self.s = ''.join(format(c, '08b') for c in data)
        self.i = 0

    def u(self, n):
        v = int(self.s[self.i:self.i + n] or '0', 2)
        self.i += n
        return v

    def ue(self):
        z = 0
        while self.s[self.i] == '0':
            z += 1
            self.i += 1
        self.i += 1
        return (1 << z) - 1 + (self.u(z) if z else 0)

    def se(self):
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def strip(rbsp):
    b = Bits(rbsp)
    profile = b.u(8)
    b.u(16)
    b.ue()
    if profile in HIGH:
        cf = b.ue()
        if cf == 3:
            b.u(1)
        b.ue()
        b.ue()
        b.u(1)
        if b.u(1):
            for i in range(8 if cf != 3 else 12):
                if b.u(1):
                    last = nxt = 8
                    for _ in range(16 if i < 6 else 64):
                        if nxt:
                            nxt = (last + b.se() + 256) % 256
                        last = nxt or last
    b.ue()
    poc = b.ue()
    if poc == 0:
        b.ue()
    elif poc == 1:
        b.u(1)
        b.se()
        b.se()
        for _ in range(b.ue()):
            b.se()
    b.ue()
    b.u(1)
    b.ue()
    b.ue()
    if not b.u(1):
        b.u(1)
    b.u(1)
    if b.u(1):
        for _ in range(4):
            b.ue()
    if not b.u(1):
        return rbsp
    if b.u(1) and b.u(8) == 255:
        b.u(32)
    if b.u(1):
        b.u(1)
    if b.u(1):
        b.u(4)
        if b.u(1):
            b.u(24)
    if b.u(1):
        b.ue()
        b.ue()
    flag = b.i
    if b.s[flag] != '1':
        return rbsp
    s = b.s.rstrip('0')[:-1]           # drop rbsp_trailing_bits
    s = s[:flag] + '0' + s[flag + 66:] + '1'
    s += '0' * (-len(s) % 8)
    return bytes(int(s[i:i + 8], 2) for i in range(0, len(s), 8))


def main():
    data = open(sys.argv[1], 'rb').read()
    parts = re.split(b'(\x00\x00\x01)', data)
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        nal = parts[i + 1]
        if nal and nal[0] & 0x1f == 7:
            body = nal.rstrip(b'\x00')
            tail = nal[len(body):]
            nal = body[:1] + escape(strip(unescape(body[1:]))) + tail
        out += [parts[i], nal]
    open(sys.argv[2], 'wb').write(b''.join(out))


main()
