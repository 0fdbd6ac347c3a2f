#!/usr/bin/env python3
"""Check the leaderboard page in a real browser: headless Chromium over the DevTools pipe.

    python scripts/page_check.py PAGE.html --screenshot OUT.png

opens PAGE.html from file://, waits for it to load and reports, as JSON: console errors
and uncaught exceptions, any request that leaves the file (the page must link nothing),
the plots and ranking tables found, whether a real mouse click on a numeric header of the
first ranking table sorted that column, and a screenshot 1200 pixels wide (the whole page,
or its top --height pixels). Exit 1 when any of these fails, 2 when no browser starts.

The browser is driven through --remote-debugging-pipe: it reads protocol commands on its
fd 3 and writes replies and events on its fd 4, each message a JSON text ended by a NUL
byte; only the standard library is needed. The tests import `check_page`."""
from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WIDTH = 1200
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe")


class CheckError(RuntimeError):
    """The browser could not be started or stopped answering."""


def find_browser() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def _is_open(fd: int) -> bool:
    with contextlib.suppress(OSError):
        return os.fstat(fd) is not None
    return False


class Browser:
    """A headless browser and its DevTools pipe; events are kept in `self.events`."""

    def __init__(self, executable: str, timeout: float = 60.0):
        self.timeout, self.events, self.next_id, self.buffer = timeout, [], 0, b""
        self.profile = tempfile.mkdtemp(prefix="page-check-")
        self.log = tempfile.TemporaryFile()  # not a pipe: a chatty browser could fill one and stall
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Above every fd the child could need, so that placing them at 3 and 4 clobbers nothing.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        # pass_fds=(3, 4) keeps the child's fds 3 and 4 open through exec; they must exist
        # here for that, so hold them with placeholders when nothing else does.
        placeholders = [os.open(os.devnull, os.O_RDONLY) for fd in (3, 4) if not _is_open(fd)]

        def at_3_and_4():  # in the child, before exec: the pipe ends where the protocol wants them
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        try:
            self.process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={WIDTH},900",
                 "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
                pass_fds=(3, 4), preexec_fn=at_3_and_4)
        finally:
            for fd in (to_browser_r, from_browser_w, child_in, child_out, *placeholders):
                os.close(fd)
        self.send_fd, self.recv_fd = to_browser_w, from_browser_r

    # -- the protocol -----------------------------------------------------------------
    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckError(f"the browser sent nothing for {self.timeout:.0f} s")
            ready, _, _ = select.select([self.recv_fd], [], [], left)
            if ready:
                chunk = os.read(self.recv_fd, 1 << 20)
                if not chunk:
                    raise CheckError(f"the browser closed its pipe (exit code {self.process.poll()}): "
                                     f"{self._stderr()}")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.send_fd, data):]
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise CheckError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str | None = None, start: int = 0) -> dict:
        """The first event `method` of `session` from the `start`-th kept on, or still to come."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events[start:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._read(deadline))

    def evaluate(self, expression: str, session: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session)
        if "exceptionDetails" in result:
            raise CheckError(f"the page's script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def _stderr(self) -> str:
        """The end of what the browser said on stderr."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def close(self) -> None:
        with contextlib.suppress(CheckError, OSError):  # it may go before it answers
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self.send_fd, self.recv_fd):
            os.close(fd)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# The first ranking table's column `key` (null: its mean column, else any numeric column
# but the rank): where its header is on screen, its sort order and its cells' values.
_COLUMN = """((key) => {
  const table = document.querySelector("table.ranking");
  if (!table) return null;
  const heads = Array.from(table.tHead.rows[0].cells);
  const head = heads.find(h => h.dataset.key === (key || "mean")) ||
               heads.find(h => !key && h.dataset.type === "number" && h.dataset.key !== "rank");
  if (!head) return null;
  head.scrollIntoView({block: "center"});
  const box = head.getBoundingClientRect(), column = heads.indexOf(head);
  return {key: head.dataset.key, x: box.left + box.width / 2, y: box.top + box.height / 2,
          setting: table.dataset.setting, density: table.dataset.density,
          order: head.getAttribute("aria-sort"),
          values: Array.from(table.tBodies[0].rows, r => parseFloat(r.cells[column].dataset.sortValue))};
})(%s)"""
_COUNTS = """({plots: document.querySelectorAll("svg.bench-plot").length,
  ranking_tables: document.querySelectorAll("table.ranking").length,
  tables: document.querySelectorAll("table").length, title: document.title, url: location.href,
  height: Math.ceil(document.documentElement.scrollHeight)})"""


def _errors(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and error log entries, as text."""
    found = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = (a.get("value", a.get("description", "")) for a in params.get("args", []))
            found.append("console: " + " ".join(map(str, args)))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append("exception: " + str(details.get("exception", {}).get("description")
                                             or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
    return found


def _click(browser: Browser, session: str, x: float, y: float) -> None:
    """A real left click: the browser's input pipeline, not a script's element.click()."""
    for kind, buttons in (("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)):
        button = "none" if kind == "mouseMoved" else "left"
        browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": button,
                                                  "buttons": buttons, "clickCount": 1}, session)


def _sort_check(browser: Browser, session: str) -> dict:
    column = browser.evaluate(_COLUMN % "null", session)
    if column is None:
        return {"sorted": False, "why": "no ranking table with a numeric column"}
    _click(browser, session, column["x"], column["y"])
    after = browser.evaluate(_COLUMN % json.dumps(column["key"]), session)
    values, order = after["values"], after["order"]
    ordered = order in ("ascending", "descending") and values == sorted(values, reverse=order == "descending")
    return {"table": {"setting": column["setting"], "density": column["density"]}, "column": column["key"],
            "before": column["values"], "after": values, "order": order,
            "sorted": ordered and sorted(values) == sorted(column["values"])}


def check_page(page: str | os.PathLike, screenshot: str | os.PathLike | None = None,
               browser: str | None = None, timeout: float = 60.0, scheme: str = "light",
               height: int | None = None) -> dict:
    """Open `page` in a headless browser and report what it found (see the module's doc);
    `result["failures"]` lists what is wrong, empty when the page passed. `scheme` is the
    colour scheme the page is shown in (light or dark)."""
    page = Path(page).resolve()
    if not page.is_file():
        raise CheckError(f"{page} is not a file: give the HTML page to check")
    executable = browser or find_browser()
    if executable is None:
        raise CheckError(f"no browser on PATH (looked for {', '.join(BROWSERS)})")
    chrome = Browser(executable, timeout)
    try:
        version = chrome.send("Browser.getVersion").get("product", "")
        target = chrome.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chrome.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            chrome.send(f"{domain}.enable", {}, session)
        chrome.send("Emulation.setDeviceMetricsOverride",
                    {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        chrome.send("Emulation.setEmulatedMedia",
                    {"features": [{"name": "prefers-color-scheme", "value": scheme}]}, session)
        start = len(chrome.events)  # not the load of the blank page the target opened with
        chrome.send("Page.navigate", {"url": page.as_uri()}, session)
        chrome.wait_for("Page.loadEventFired", session, start)
        found = {**chrome.evaluate(_COUNTS, session), "screenshot": None}  # shot before a click sorts a table
        if screenshot is not None:
            tall = max(min(found["height"], height or found["height"]), 1)  # `height`: the top of the page only
            clip = {"x": 0, "y": 0, "width": WIDTH, "height": tall, "scale": 1}
            shot = chrome.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                          "clip": clip}, session)
            data = base64.b64decode(shot["data"])
            Path(screenshot).write_bytes(data)
            found["screenshot"] = {"path": str(screenshot), "bytes": len(data), "width": WIDTH, "height": tall,
                                   "png": data[:8] == b"\x89PNG\r\n\x1a\n"}
        found["sort"] = _sort_check(chrome, session)
        events = chrome.events
    finally:
        chrome.close()
    requests = sorted({e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
                       and not e["params"]["request"]["url"].startswith(("file:", "data:", "about:"))})
    result = {"browser": version, "page": page.as_uri(), "scheme": scheme, **found, "errors": _errors(events),
              "external_requests": requests}
    result["failures"] = failures(result)
    return result


def failures(result: dict) -> list[str]:
    """What a report says is wrong with the page."""
    wrong = [f"error in the page: {e}" for e in result["errors"]]
    wrong += [f"the page requested {url}" for url in result["external_requests"]]
    if result["url"] != result["page"]:
        wrong.append(f"the browser shows {result['url']}, not the page {result['page']}")
    if result["plots"] == 0:
        wrong.append("no plot (svg.bench-plot) on the page")
    if result["ranking_tables"] == 0:
        wrong.append("no ranking table (table.ranking) on the page")
    elif not result["sort"]["sorted"]:
        wrong.append(f"clicking a header did not sort its column: {result['sort']}")
    shot = result.get("screenshot")
    if shot is not None and (not shot["png"] or shot["bytes"] < 10_000):
        wrong.append(f"the screenshot is not a PNG of some size: {shot}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="the HTML file to check")
    parser.add_argument("--screenshot", metavar="PNG", help="write a full-page screenshot here")
    parser.add_argument("--height", type=int, help="screenshot only the page's top HEIGHT pixels")
    parser.add_argument("--browser", help="the browser's executable (default: found on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer")
    parser.add_argument("--scheme", choices=("light", "dark"), default="light",
                        help="the colour scheme to show the page in (default: light)")
    args = parser.parse_args(argv)
    try:
        result = check_page(args.page, args.screenshot, args.browser, args.timeout, args.scheme, args.height)
    except CheckError as err:
        print(f"page_check: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
