#!/usr/bin/env python3
"""Take PNG screenshots of a running Odoo as a logged-in user, with headless Chromium.

Drives the browser only: start Odoo yourself (e.g. ``bin/demo``) and point this at it.
Logs in through ``/web/session/authenticate``, hands the session cookie to Chromium
over the DevTools protocol, opens each URL, waits until the web client is idle and
writes one PNG per page.

    python3 tools/screenshot.py --url http://127.0.0.1:8069 --db scrm_demo \\
        contact.png '/odoo/contacts/14' lead.png '/odoo/crm/22'

Needs ``chromium`` (or ``--chromium PATH``), ``requests`` and ``websocket-client``.
Each page may be suffixed with ``#click=CSS`` to click an element (a notebook tab,
say) before the shot; ``@WxH`` after the file name sets the window size.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests
import websocket

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
]
IDLE_JS = """
(() => {
    const busy = document.querySelector('.o_loading_indicator, .o_blockUI');
    const ready = document.querySelector('.o_action_manager .o_view_controller, .o_form_view');
    return Boolean(ready) && !busy;
})()
"""


class Browser:
    def __init__(self, chromium: str, width: int, height: int):
        self.profile = tempfile.mkdtemp(prefix="scrm-chromium-")
        port_file = Path(self.profile) / "DevToolsActivePort"
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        stable = 0
        while time.monotonic() < deadline:
            stable = stable + 1 if self.evaluate(IDLE_JS) else 0
            if stable >= 3:
                time.sleep(0.8)  # let images and fonts settle
                return
            time.sleep(0.3)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def login(base_url: str, db: str, user: str, password: str) -> str:
    response = requests.post(
        f"{base_url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}},
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise RuntimeError(f"login failed: {response.json()['error'].get('message')}")
    return response.cookies["session_id"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--size", default="1440x900", help="default window size, WxH")
    parser.add_argument("shots", nargs="+", help="pairs: FILE.png[@WxH] PATH[#click=CSS]")
    args = parser.parse_args()
    if len(args.shots) % 2:
        parser.error("give FILE PATH pairs")
    width, height = map(int, args.size.split("x"))
    session = login(args.url, args.db, args.login, args.password)
    host = urllib.parse.urlsplit(args.url).hostname
    browser = Browser(args.chromium, width, height)
    try:
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        for target, spec in zip(args.shots[::2], args.shots[1::2], strict=True):
            file_name, _, size = target.partition("@")
            w, h = map(int, size.split("x")) if size else (width, height)
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=w,
                height=h,
                deviceScaleFactor=1,
                mobile=False,
            )
            path, _, click = spec.partition("#click=")
            browser.call("Page.enable")
            browser.call("Page.navigate", url=args.url + path)
            time.sleep(1.0)
            browser.wait_idle()
            if click:
                browser.evaluate(f"document.querySelector({json.dumps(click)})?.click()")
                time.sleep(0.5)
                browser.wait_idle()
            data = browser.call("Page.captureScreenshot", format="png")["data"]
            Path(file_name).parent.mkdir(parents=True, exist_ok=True)
            Path(file_name).write_bytes(base64.b64decode(data))
            print(f"{file_name} <- {path}{' (clicked ' + click + ')' if click else ''}")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
