#!/usr/bin/python3
"""Knock on wsrecv's door: a WebSocket or HTTP request, with or without a
token, over TLS that is verified or not.

usage: authclient.py [--bearer TOKEN] [--ca CERT] [--send TEXT] URL

URL is ws://, wss://, http:// or https://. Prints one line: "open" (the
WebSocket handshake succeeded; TEXT is sent, then a clean close),
"status N" (the server answered N instead), or "error WHAT" (no HTTP answer
at all, or the TLS certificate did not verify).
"""
import argparse
import asyncio
import http.client
import ssl
import sys
import urllib.parse

import websockets


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    return ctx


async def ws(a):
    headers = {"Authorization": "Bearer " + a.bearer} if a.bearer else {}
    kw = {"ssl": tls_context(a.ca)} if a.url.startswith("wss:") else {}
    try:
        async with websockets.connect(a.url, extra_headers=headers, open_timeout=10,
                                      compression=None, **kw) as c:
            print("open", flush=True)
            if a.send is not None:
                await c.send(a.send)
    except websockets.exceptions.InvalidStatusCode as e:
        print("status", e.status_code)
    except (ssl.SSLError, OSError, websockets.exceptions.InvalidHandshake) as e:
        print("error", type(e).__name__)


def http_get(a):
    u = urllib.parse.urlsplit(a.url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                           context=tls_context(a.ca))
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Authorization": "Bearer " + a.bearer} if a.bearer else {}
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
        print("status", conn.getresponse().status)
    except (ssl.SSLError, OSError, http.client.HTTPException) as e:
        print("error", type(e).__name__)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bearer")
    p.add_argument("--ca")
    p.add_argument("--send")
    p.add_argument("url")
    a = p.parse_args()
    if a.url.startswith(("ws:", "wss:")):
        asyncio.run(ws(a))
    else:
        http_get(a)


if __name__ == "__main__":
    sys.exit(main())
