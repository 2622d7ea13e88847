"""Headless Chromium for the page tests (Debian's chromium and
chromium-driver through python3-selenium): the driver with the options
every page test needs, a bounded wait, and the artifacts of a failed run.
Used by console_browser.py and live_browser.py."""
import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


class Failed(Exception):
    pass


def wait(what, cond, timeout=30):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # the page is changing under us
            last = e
        time.sleep(0.2)
    raise Failed(f"timed out ({timeout} s) waiting for {what} (last: {last!r})")


def chromium():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--autoplay-policy=no-user-gesture-required",
                "--mute-audio"):
        o.add_argument(arg)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def keep_artifacts(d, where, tag, extra=""):
    """A screenshot and the page's console log as where/TAG.png, .log."""
    os.makedirs(where, exist_ok=True)
    d.save_screenshot(os.path.join(where, f"{tag}.png"))
    with open(os.path.join(where, f"{tag}.log"), "w") as f:
        for entry in d.get_log("browser"):
            f.write(f"{entry}\n")
        f.write(extra)
