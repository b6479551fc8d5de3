"""Headless Chromium (Debian's `chromium`) for what people open: the text a page renders, a screenshot.

`dump_dom(url)` and `screenshot(url, png)` run Chromium's own `--dump-dom` / `--screenshot` (with a
virtual-time budget so scripts that fetch JSON, as dbt docs do, have run). `devtools_screenshot`
drives Chromium over the DevTools protocol instead, for pages behind a login (the Airflow UI keeps its
JWT in the `_token` cookie): set cookies, open the page, wait until a text appears, take the picture.
Every run uses a fresh profile folder and no network beyond loopback.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


def chromium() -> str:
    """The chromium binary; installed with apt-get when missing (fails, never skips, when it cannot be)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    done = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        done = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, text=True,
                              check=False)
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError(f"chromium is not installed and `apt-get install chromium` failed:\n{done.stderr[-2000:]}")
    return found


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              timeout=timeout, check=False)


def dump_dom(url: str, budget_ms: int = 8000, timeout: float = 120) -> str:
    """The page's DOM after its scripts ran (virtual time `budget_ms`)."""
    done = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout)
    if done.returncode != 0:
        raise RuntimeError(f"chromium --dump-dom {url} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout.decode("utf-8", errors="replace")


def screenshot(url: str, png: Path, size: str = "1400,1000", budget_ms: int = 8000, timeout: float = 120) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    done = _run([f"--virtual-time-budget={budget_ms}", f"--window-size={size}", f"--screenshot={png}", url], timeout)
    if done.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium --screenshot {url} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return png


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def devtools_screenshot(url: str, png: Path, *, cookies: list[dict] | None = None, wait_for: str | None = None,
                        width: int = 1600, height: int = 1000, timeout: float = 90, script: str | None = None) -> str:
    """Open `url` with `cookies` set, wait until the page's text contains `wait_for`, run `script`
    (e.g. scroll to an element), save a PNG; returns the page's text (document.body.innerText)."""
    from websockets.sync.client import connect

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
                                 "--remote-debugging-address=127.0.0.1", f"--window-size={width},{height}",
                                 "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            target = None
            while target is None and time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                        pages = [t for t in json.loads(answer.read()) if t.get("type") == "page"]
                    target = pages[0]["webSocketDebuggerUrl"] if pages else None
                except OSError:
                    time.sleep(0.5)
            if target is None:
                raise RuntimeError("chromium's DevTools endpoint did not come up")
            with connect(target, max_size=64 * 1024 * 1024, open_timeout=30) as ws:
                counter = iter(range(1, 1_000_000))

                def call(method: str, **params: object) -> dict:
                    ident = next(counter)
                    ws.send(json.dumps({"id": ident, "method": method, "params": params}))
                    while True:
                        message = json.loads(ws.recv(timeout=max(1.0, deadline - time.monotonic())))
                        if message.get("id") == ident:
                            if "error" in message:
                                raise RuntimeError(f"{method}: {message['error']}")
                            return message.get("result", {})

                call("Network.enable")
                for cookie in cookies or []:
                    call("Network.setCookie", **cookie)
                call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                     mobile=False)
                call("Page.enable")
                call("Page.navigate", url=url)
                text = ""
                while time.monotonic() < deadline:
                    time.sleep(1)
                    text = call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                                returnByValue=True).get("result", {}).get("value") or ""
                    if wait_for is None or wait_for in text:
                        break
                else:
                    raise TimeoutError(f"{url}: {wait_for!r} did not appear; the page shows: {text[:500]!r}")
                if script:
                    call("Runtime.evaluate", expression=script)
                time.sleep(2)  # let charts and icons settle
                shot = call("Page.captureScreenshot", format="png")
                png.parent.mkdir(parents=True, exist_ok=True)
                png.write_bytes(base64.b64decode(shot["data"]))
                return text
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
