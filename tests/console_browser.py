#!/usr/bin/python3
"""Drive the console page in headless Chromium (Debian's chromium and
chromium-driver through python3-selenium) against a running recorder that
has one simulated phone and one simulated ESP32 board connected.

usage: console_browser.py URL --model TEXT [--no-webcodecs] [--artifacts DIR]
                          [--screenshot FILE]

Steps, each bounded in time: both cameras appear; the device model is
shown as text; each camera is started by its own button, the board with the
resolution and quality chosen in the page, and both confirm (the board's
ACK names them); each preview's pixels change; the layout narrows to one
column on a phone-sized window; stop all, both confirm; the board's stop
ACK ended its session (session.json: started and ended by the commands);
the phone's and the board's recordings appear with thumbnails and play in
the page.
Exits 0 when all passed; else says which step failed and, with
--artifacts, leaves a screenshot and the page's log there.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser import Failed, chromium, keep_artifacts, wait


def cards(d):
    return {c.get_attribute("data-kind"): c for c in d.find_elements(By.CSS_SELECTOR, "#cameras .camera")}


def frames(card):
    return int(card.find_element(By.CSS_SELECTOR, ".preview").get_attribute("data-frames") or 0)


def answer(card):
    return card.find_element(By.CSS_SELECTOR, ".answer").text


RES, QUALITY = "QVGA", 20


def session_json(a, folder):
    with urllib.request.urlopen(f"{a.url}recordings/{folder}/session.json", timeout=10) as r:
        return json.load(r)


def play_recording(d, a, name, card, want):
    """Click the camera's recording whose session.json is as wanted, once
    it has a thumbnail, and see it play."""
    peer = card.find_element(By.CSS_SELECTOR, ".peer").text.split(" ")[0]
    d.find_element(By.ID, "refresh").click()
    rec = wait(f"the {name}'s recording with a thumbnail", lambda: next(
        (r for r in d.find_elements(By.CSS_SELECTOR, "#recordings .recording")
         if r.text.startswith(peer) and d.execute_script(
             "return arguments[0].querySelector('img').naturalWidth > 0", r)
         and want(session_json(a, r.get_attribute("data-folder")))), None), 90)
    d.execute_script("const p = document.getElementById('player'); p.pause(); p.removeAttribute('src'); p.load();")
    rec.click()
    wait(f"the {name}'s recording to play", lambda: d.execute_script(
        "const p = document.getElementById('player');"
        "return !p.hidden && p.readyState >= 2 && p.videoWidth > 0 && p.currentTime > 0"), 30)


def run(d, a):
    d.get(a.url)
    kind = d.find_element(By.ID, "decoder").text
    want = "mse" if a.no_webcodecs else "webcodecs"
    if kind != "phone preview: " + want:
        raise Failed(f"decoder: {kind!r}, want {want}")
    c = wait("a phone and an ESP32 board in the list", lambda: len(cards(d)) == 2 and cards(d))
    phone, esp = c["phone"], c["esp32"]

    # The device model is text: no element made of it, no script run.
    model = phone.find_element(By.CSS_SELECTOR, ".model")
    if model.text != "model: " + a.model:
        raise Failed(f"model shown as {model.text!r}")
    if model.find_elements(By.CSS_SELECTOR, "*") or d.execute_script("return window.__xss"):
        raise Failed("the device model became HTML")

    # Each by its own button; the board with what the page's fields say.
    Select(d.find_element(By.ID, "res")).select_by_visible_text(RES)
    q = d.find_element(By.ID, "quality")
    q.clear()
    q.send_keys(str(QUALITY))
    phone.find_element(By.CSS_SELECTOR, ".start").click()
    esp.find_element(By.CSS_SELECTOR, ".start").click()
    wait("both cameras to confirm start", lambda: answer(phone).startswith("start: confirmed")
         and answer(esp).startswith("start: confirmed"))
    if f"{RES} quality {QUALITY}" not in answer(esp):
        raise Failed(f"the board's start answer {answer(esp)!r} does not name {RES} {QUALITY}")

    # Pixels: two screenshots of each preview, some frames apart.
    wait("pictures in both previews", lambda: frames(phone) >= 3 and frames(esp) >= 3)
    shots = {}
    for name, card in (("phone", phone), ("esp", esp)):
        box = card.find_element(By.CSS_SELECTOR, ".preview")
        first = box.screenshot_as_png
        n = frames(card)
        wait(f"{name} preview to move on", lambda: frames(card) >= n + 5)
        time.sleep(0.3)
        second = box.screenshot_as_png
        if first == second:
            raise Failed(f"{name} preview did not change")
        shots[name] = second

    # Phones' screens: one column.
    size = d.get_window_size()
    d.set_window_size(400, 900)
    cols = wait("a one-column layout", lambda: d.execute_script(
        "return getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length === 1"
        " && getComputedStyle(document.getElementById('cameras')).gridTemplateColumns.split(' ').length === 1"))
    d.set_window_size(size["width"], size["height"])

    d.find_element(By.ID, "stop-all").click()
    wait("both cameras to confirm stop", lambda: answer(phone).startswith("stop: confirmed")
         and answer(esp).startswith("stop: confirmed"))

    # The board's session ends on its stop ACK, not later by the idle
    # timeout: the card says so while the board is still connected.
    wait("the board's card to show it is not recording", lambda:
         esp.find_element(By.CSS_SELECTOR, ".rec").text == "not recording", 10)

    # Both recordings, finalized, with their thumbnails, play.
    play_recording(d, a, "phone", phone, lambda s: True)
    play_recording(d, a, "board", esp, lambda s: s.get("started_by") == "start"
                   and s.get("ended_by") == "stop"
                   and f"{RES} quality {QUALITY}" in (s.get("capture_message") or ""))
    if a.screenshot:
        d.set_window_size(1280, 1400)
        d.execute_script("window.scrollTo(0, 0)")
        time.sleep(1)
        if a.screenshot.endswith(".jpg"):
            # Small enough to keep in the tree.
            png = a.screenshot + ".png"
            d.save_screenshot(png)
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", png,
                            "-q:v", "5", a.screenshot], check=True)
            os.unlink(png)
        else:
            d.save_screenshot(a.screenshot)
    return cols


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("url")
    p.add_argument("--model", required=True)
    p.add_argument("--no-webcodecs", action="store_true")
    p.add_argument("--artifacts")
    p.add_argument("--screenshot")
    a = p.parse_args()
    d = chromium()
    try:
        if a.no_webcodecs:
            # As on a page opened by a plain-http LAN address.
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source":
                "delete window.VideoDecoder; delete window.VideoEncoder; delete window.EncodedVideoChunk;"})
        run(d, a)
        print("ok")
        return 0
    except Exception as e:
        print(f"console_browser: {e}", file=sys.stderr)
        if a.artifacts:
            tag = "nowebcodecs" if a.no_webcodecs else "webcodecs"
            keep_artifacts(d, a.artifacts, f"console-{tag}",
                           d.find_element(By.ID, "log").text + "\n")
            print(f"console_browser: screenshot and log in {a.artifacts}", file=sys.stderr)
        return 1
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
