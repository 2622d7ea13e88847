#!/usr/bin/env python3
"""sentcheck.py SENT_LOG REC_DIR [KILLS [TOLERANCE_S]]: compare what camsim
sent (its --sent-log) with the session folders sessionwriter made.

Every frame an index.tsv lists must be one the camera sent on that
connection (same port and sequence number) with the same length and
SHA-256 of its bytes in the stream: nothing recorded is damaged. Within a
session the frames follow the order they were sent, with no frame missing
between its first and last (no hole). A frame sent but in no folder is
lost; with KILLS (a file with a line per kill of a recorder process: the
wall-clock time of the kill and that of the restart, in seconds) a lost
frame must have been sent less than TOLERANCE_S (default 2) before a kill
or between a kill and its restart: losses outside every such window are
reported. Frames sent in the last
TOLERANCE_S before the log's last line are not counted as lost (they may
still have been on their way when the recorder was stopped).

Prints one summary line of counts and, per kill, how many frames were lost
and how long before the kill the oldest of them was sent. Exits 1 when a
frame is damaged, a session has a hole, or a loss is outside every window.
"""
import hashlib
import json
import os
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[0])
    sent_path, rec = sys.argv[1], sys.argv[2]
    kills = None  # without KILLS, losses are counted, not judged
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            kills = sorted(tuple(float(v) for v in x.split()) for x in f if x.strip())
    tol = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0

    sent = {}  # (port, seq) -> (length, sha256, wall seconds)
    last_wall = 0.0
    with open(sent_path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 6:
                continue  # the last line, cut by a kill of camsim
            wall = int(p[5]) / 1e6
            sent[(int(p[0]), int(p[1]))] = (int(p[3]), p[4], wall)
            last_wall = max(last_wall, wall)

    recorded = set()
    sessions = damaged = holes = unknown = 0
    for name in sorted(os.listdir(rec)):
        d = os.path.join(rec, name)
        try:
            with open(os.path.join(d, "session.json")) as f:
                port = json.load(f)["peer"]["port"]
            index = open(os.path.join(d, "index.tsv")).read().splitlines()[1:]
            stream = open(os.path.join(d, "stream.h264"), "rb").read()
        except (OSError, ValueError, KeyError):
            continue
        sessions += 1
        seqs = []
        for line in index:
            seq, _, _, off, size, kind = line.split("\t")
            seq, off, size = int(seq), int(off), int(size)
            s = sent.get((port, seq))
            if s is None:
                unknown += 1
                print(f"sentcheck: {name}: seq {seq}: never sent on port {port}")
                continue
            if kind != "config":
                seqs.append(seq)
            digest = hashlib.sha256(stream[off:off + size]).hexdigest()
            if size != s[0] or digest != s[1]:
                damaged += 1
                print(f"sentcheck: {name}: seq {seq}: bytes differ from those sent")
            recorded.add((port, seq))
        for a, b in zip(seqs, seqs[1:]):
            if b != a + 1:
                holes += 1
                print(f"sentcheck: {name}: frames {a + 1} to {b - 1} missing between {a} and {b}")

    lost = outside = in_tail = 0
    per_kill = {k: [0, 0.0] for k in kills or []}
    for key, (_, _, wall) in sent.items():
        if key in recorded:
            continue
        if wall > last_wall - tol:
            in_tail += 1
            continue
        lost += 1
        if kills is None:
            continue
        # the kill whose window holds the moment the frame was sent
        k = next((k for k in kills if k[0] - tol <= wall <= k[1]), None)
        if k is None:
            outside += 1
            if outside <= 20:
                print(f"sentcheck: port {key[0]} seq {key[1]}: sent at {wall:.3f}, "
                      f"recorded nowhere, in no kill's window")
            continue
        per_kill[k][0] += 1
        per_kill[k][1] = max(per_kill[k][1], k[0] - wall)
    for k in kills or []:
        n, age = per_kill[k]
        print(f"sentcheck: kill at {k[0]:.3f}, restart {k[1] - k[0]:.1f} s later: "
              f"{n} frames lost, the oldest sent {age:.3f} s before the kill")
    worst = max((v[1] for v in per_kill.values()), default=0.0)
    judged = "" if kills is None else (
        f" (outside the {tol:g} s before a kill to its restart: {outside}; "
        f"the oldest sent {worst:.3f} s before its kill)")
    print(f"sentcheck: sent {len(sent)}, recorded {len(recorded)} in {sessions} sessions, "
          f"damaged {damaged}, holes {holes}, unknown {unknown}, lost {lost}{judged}, "
          f"last {tol:g} s not counted {in_tail}")
    sys.exit(1 if damaged or holes or unknown or outside else 0)


main()
