"""report.html in a real headless Chromium: charts and the claims table render, no console errors.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (fd 3 in,
fd 4 out, NUL-separated JSON) with the standard library only: no browser download, no
extra dependency. Two runs are rendered: the real smoke run (``smoke_run_dir``, from
tests/conftest.py: a few cells, no microbench, no sweep) and a synthetic 2-core run
with every section filled. A full-page screenshot, ``report.png``, is saved into each
run directory.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.fixtures.synthetic_runs import make_run, write_run
except ImportError:  # rootdir-style import when tests/ has no __init__.py
    from tests.fixtures.synthetic_runs import make_run, write_run

from loadtests.report.build import write_report

CHROMIUM = os.environ.get("GIL_LAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-pipe")
TIMEOUT_S = 60.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
                       reason=f"headless Chromium not found at {CHROMIUM}: run `make system-deps` (installs Debian's chromium)"),
]


class DevToolsPipe:
    """A minimal DevTools client over Chromium's debugging pipe."""

    def __init__(self, profile: Path) -> None:
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def place_fds() -> None:  # runs in the child: fd 3 = commands in, fd 4 = replies out
            # Copy both ends above fd 10 first: a plain dup() could land on 3 or 4 itself, and
            # dup2(fd, fd) is a no-op that leaves close-on-exec set, so Chromium would find no pipe.
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # dup2 makes the target inheritable
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            close_fds=False, preexec_fn=place_fds, start_new_session=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child_r, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self._inbox.put(json.loads(msg))

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply is None:
                raise RuntimeError(f"Chromium closed the pipe during {method}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + timeout
        while True:
            msg = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if msg is None:
                raise RuntimeError(f"Chromium closed the pipe while waiting for {method}")
            self.events.append(msg)
            if msg.get("method") == method:
                return msg

    def close(self) -> str:
        with contextlib.suppress(Exception):  # closing a browser that already died is fine
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        os.close(self._to_child_w)
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        return err


def _console_problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            problems.append(f"console.{p.get('type')}: {[a.get('value') for a in p.get('args', [])]}")
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            problems.append(f"log {p['entry'].get('level')}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    return problems


@pytest.fixture(scope="module")
def synthetic_page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A synthetic 2-core run with every section filled: all charts, GIL incidents, projections refused."""
    return render_in_chromium(write_run(tmp_path_factory.mktemp("browser") / "run", make_run()))


@pytest.fixture(scope="module")
def smoke_page(smoke_run_dir: Path) -> dict[str, Any]:
    """The real smoke run: its report is written into the run directory, as `gil-lab report` would."""
    return render_in_chromium(smoke_run_dir)


def render_in_chromium(run_dir: Path) -> dict[str, Any]:
    """Write the report, load it in Chromium; return the DOM facts, console problems, requests, screenshot."""
    paths = write_report(run_dir)
    url = paths.html.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="gil-lab-chromium-") as profile:
        cdp = DevToolsPipe(Path(profile))
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.send(f"{domain}.enable", session=session)
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
            cdp.send("Page.navigate", {"url": url}, session=session)
            cdp.wait_event("Page.loadEventFired")
            probe = """JSON.stringify({
                claims: !!document.querySelector('table#claims'),
                claimRows: document.querySelectorAll('table#claims tbody tr').length,
                chartSvgs: document.querySelectorAll('figure.chart svg').length,
                chartIds: Array.from(document.querySelectorAll('figure.chart')).map(f => f.id),
                sections: Array.from(document.querySelectorAll('main > section')).map(s => s.id),
                scripts: document.querySelectorAll('script').length,
                svgSizes: Array.from(document.querySelectorAll('figure.chart svg')).map(
                    s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]),
            })"""
            res = cdp.send("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=session)
            facts = json.loads(res["result"]["value"])
            metrics = cdp.send("Page.getLayoutMetrics", session=session)
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = cdp.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 16000), "scale": 1},
            }, session=session)
            screenshot = run_dir / "report.png"
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            time.sleep(0.2)  # let late console events arrive
            cdp.send("Runtime.evaluate", {"expression": "1"}, session=session)
        finally:
            cdp.close()
    requests = [e["params"]["request"]["url"] for e in cdp.events if e.get("method") == "Network.requestWillBeSent"]
    return {"facts": facts, "problems": _console_problems(cdp.events), "requests": requests,
            "screenshot": screenshot, "url": url}


SECTIONS = ["verdict", "throughput", "scaling", "latency", "memory", "claims", "capacity", "method"]


def _check_page(page: dict[str, Any], min_charts: int) -> None:
    f = page["facts"]
    assert f["claims"], "table#claims is missing"
    assert f["claimRows"] == 6
    assert f["chartSvgs"] >= min_charts, f["chartIds"]
    assert all(w > 100 and h > 50 for w, h in f["svgSizes"]), f["svgSizes"]
    assert f["sections"] == SECTIONS
    assert page["problems"] == []
    assert f["scripts"] == 0
    external = [u for u in page["requests"] if not u.startswith(("file:", "data:", "about:"))]
    assert external == []
    shot: Path = page["screenshot"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_real_smoke_run_report_renders(smoke_page: dict[str, Any]) -> None:
    # smoke: one scenario, no sweep, no microbench: throughput, latency and memory charts
    _check_page(smoke_page, min_charts=3)
    assert {"chart-throughput", "chart-latency", "chart-memory"} <= set(smoke_page["facts"]["chartIds"])


def test_full_synthetic_report_renders(synthetic_page: dict[str, Any]) -> None:
    _check_page(synthetic_page, min_charts=5)
    assert {"chart-scaling", "chart-microbench"} <= set(synthetic_page["facts"]["chartIds"])
