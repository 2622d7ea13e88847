#!/usr/bin/python3
"""Play liverelay's player page (served at its /) in headless Chromium.

usage: live_browser.py URL [--artifacts DIR]

Steps, each bounded in time: the video element gets a picture (its
readyState and size); its currentTime advances; a frame drawn onto a canvas
is a picture, not a blank (many distinct colours, as in ffmpeg's test
pattern); a second frame, a second later, differs from the first. Exits 0
when all passed; else says which step failed and, with --artifacts, leaves
a screenshot and the page's log there.
"""
import argparse
import sys

from browser import Failed, chromium, keep_artifacts, wait

# The frame as a 64x36 canvas: how many distinct colours, and a digest.
FRAME = """
const v = document.getElementById("video");
const c = document.createElement("canvas");
c.width = 64; c.height = 36;
const g = c.getContext("2d");
g.drawImage(v, 0, 0, c.width, c.height);
const px = g.getImageData(0, 0, c.width, c.height).data;
const colours = new Set();
let sum = 0;
for (let i = 0; i < px.length; i += 4) {
    colours.add((px[i] >> 3) << 10 | (px[i + 1] >> 3) << 5 | px[i + 2] >> 3);
    sum = (sum * 31 + px[i] + px[i + 1] * 7 + px[i + 2] * 13) % 1000000007;
}
return [colours.size, sum];
"""


def run(d, url):
    d.get(url)
    wait("a picture in the video element", lambda: d.execute_script(
        "const v = document.getElementById('video');"
        "return v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0"), 60)
    t0 = d.execute_script("return document.getElementById('video').currentTime")
    wait("currentTime to advance", lambda: d.execute_script(
        "return document.getElementById('video').currentTime") > t0 + 1, 30)
    colours, first = d.execute_script(FRAME)
    if colours < 16:
        raise Failed(f"the frame is blank: {colours} distinct colours")
    wait("a different frame", lambda: d.execute_script(FRAME)[1] != first, 30)


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("url")
    p.add_argument("--artifacts")
    a = p.parse_args()
    d = chromium()
    try:
        run(d, a.url)
        print("ok")
        return 0
    except Exception as e:
        print(f"live_browser: {e}", file=sys.stderr)
        if a.artifacts:
            keep_artifacts(d, a.artifacts, "live-page", d.execute_script(
                "return document.getElementById('note').textContent") + "\n")
            print(f"live_browser: screenshot and log in {a.artifacts}", file=sys.stderr)
        return 1
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
