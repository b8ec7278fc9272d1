"""report.html in a real headless Chromium: charts and the claims table render, no console errors.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (fd 3 in,
fd 4 out, NUL-separated JSON) with the standard library only: no browser download, no
extra dependency. Three runs are rendered: the real smoke run (``smoke_run_dir``, from
tests/conftest.py: a few cells, no microbench, no sweep), a synthetic 2-core run with
every section filled, and the paired smoke fixture. Each is laid out at 1280 px and at
420 px (a phone, with mobile emulation), and a full-page screenshot of each width,
``report-1280.png`` and ``report-420.png``, is saved into the run directory. The
layout is measured through the protocol, so the report itself stays free of scripts.
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
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.fixtures.synthetic_runs import make_run, write_run
except ImportError:  # rootdir-style import when tests/ has no __init__.py
    from tests.fixtures.synthetic_runs import make_run, write_run

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.diagnosis import Finding, ScenarioDiagnosis
from loadtests.report.build import write_report
from loadtests.workflow.reports import load_analysis
from tests.report.capacity_inputs import capacity_at_slo

PAIRED_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"

CHROMIUM = os.environ.get("GIL_LAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-pipe")
TIMEOUT_S = 60.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a real headless Chromium
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
        """The next ``method`` event; it is taken out of ``events``, so a second wait sees a new one."""
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if msg is None:
                raise RuntimeError(f"Chromium closed the pipe while waiting for {method}")
            if msg.get("method") == method:
                return msg
            self.events.append(msg)

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


WIDTHS = (1280, 420)  # a desktop window and a phone


@pytest.fixture(scope="module")
def synthetic_page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A synthetic 2-core run with every section filled: all charts, GIL incidents, projections refused."""
    return render_in_chromium(write_run(tmp_path_factory.mktemp("browser") / "run", make_run()))


@pytest.fixture(scope="module")
def paired_page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The paired smoke fixture (schema 3: PSS, paired windows), with one capacity entry and a diagnosis."""
    run_dir = tmp_path_factory.mktemp("browser-paired")
    shutil.copyfile(PAIRED_FIXTURE, run_dir / "run.json")
    a = load_analysis(run_dir)
    capacity = (capacity_at_slo("json", "uvicorn", "3.14t", "3.14t uvicorn w1 t8", 41.5, 39.0, 44.0, 412.0, 20.7,
                                148.2),)
    diagnosis = (ScenarioDiagnosis("json", "uvicorn", (Finding(
        "event-loop", "a serial section on the event loop",
        "the event-loop thread of 3.14t was busy 0.91 of the time, which caps the server near one core", ""),)),)
    return render_in_chromium(run_dir, replace(a, summary=replace(a.summary, capacity=capacity), diagnoses=diagnosis))


@pytest.fixture(scope="module")
def smoke_page(smoke_run_dir: Path) -> dict[str, Any]:
    """The real smoke run: its report is written into the run directory, as `gil-lab report` would."""
    return render_in_chromium(smoke_run_dir)


PROBE = """JSON.stringify({
    claims: !!document.querySelector('table#claims'),
    claimRows: document.querySelectorAll('table#claims tbody tr').length,
    chartSvgs: document.querySelectorAll('figure.chart svg').length,
    chartIds: Array.from(document.querySelectorAll('figure.chart')).map(f => f.id),
    sections: Array.from(document.querySelectorAll('main > section')).map(s => s.id),
    scripts: document.querySelectorAll('script').length,
    svgSizes: Array.from(document.querySelectorAll('main figure.chart svg')).map(
        s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]),
})"""

# The layout of the summary: what scrolls sideways, what sticks out, where the forest plots are.
LAYOUT_PROBE = """(() => {
    const page = document.scrollingElement;
    const summary = document.querySelector('section#summary');
    const box = summary.getBoundingClientRect();
    const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '');
    const all = Array.from(summary.querySelectorAll('*'));
    return JSON.stringify({
        viewport: window.innerWidth,
        page: [page.scrollWidth, page.clientWidth],
        summary: [summary.scrollWidth, summary.clientWidth],
        cards: Array.from(summary.querySelectorAll('article.card')).map(c => ({
            id: c.id, tone: c.className, scroll: c.scrollWidth, client: c.clientWidth,
            top: c.getBoundingClientRect().top, text: c.innerText})),
        scrolling: all.filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth).map(name),
        stickingOut: all.filter(e => { const r = e.getBoundingClientRect();
            return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5); }).map(name),
        firstAfterHeader: document.querySelector('header').nextElementSibling.id,
        summaryTop: box.top,
        forests: Array.from(summary.querySelectorAll('svg.forest')).map(s => ({
            width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height,
            widthAttr: s.getAttribute('width'), viewBox: s.getAttribute('viewBox'),
            cardWidth: s.closest('article').clientWidth})),
    });
})()"""


def render_in_chromium(run_dir: Path, analysis: Analysis | None = None) -> dict[str, Any]:
    """Write the report and load it in Chromium at each of WIDTHS.

    Returns the DOM facts and the layout per width, the screenshots, and the console
    problems and requests of all the loads.
    """
    paths = write_report(run_dir, analysis or load_analysis(run_dir))
    url = paths.html.resolve().as_uri()
    per_width: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="gil-lab-chromium-") as profile:
        cdp = DevToolsPipe(Path(profile))
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.send(f"{domain}.enable", session=session)
            for width in WIDTHS:
                # mobile emulation below 600 px: the page's viewport meta applies, as on a phone
                cdp.send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
                         session=session)
                cdp.send("Page.navigate", {"url": url}, session=session)
                cdp.wait_event("Page.loadEventFired")
                facts = _evaluate(cdp, session, PROBE)
                layout = _evaluate(cdp, session, LAYOUT_PROBE)
                metrics = cdp.send("Page.getLayoutMetrics", session=session)
                size = metrics.get("cssContentSize") or metrics["contentSize"]
                shot = cdp.send("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 16000), "scale": 1},
                }, session=session)
                screenshot = run_dir / f"report-{width}.png"
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                per_width[width] = {"facts": facts, "layout": layout, "screenshot": screenshot}
            time.sleep(0.2)  # let late console events arrive
            cdp.send("Runtime.evaluate", {"expression": "1"}, session=session)
        finally:
            cdp.close()
    requests = [e["params"]["request"]["url"] for e in cdp.events if e.get("method") == "Network.requestWillBeSent"]
    return {"widths": per_width, "facts": per_width[WIDTHS[0]]["facts"], "problems": _console_problems(cdp.events),
            "requests": requests, "screenshot": per_width[WIDTHS[0]]["screenshot"], "url": url}


def _evaluate(cdp: DevToolsPipe, session: str, expression: str) -> dict[str, Any]:
    res = cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    if "exceptionDetails" in res:
        raise RuntimeError(f"probe failed: {res['exceptionDetails']}")
    return json.loads(res["result"]["value"])


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


# --- the summary cards at a desktop's and a phone's width ----------------------------------


def _check_summary_layout(page: dict[str, Any], scenarios: list[str]) -> None:
    for width, seen in page["widths"].items():
        lay = seen["layout"]
        # a phone zooms out to fit a page wider than itself, so a wider viewport means something stuck out
        assert lay["viewport"] == width, f"the page is wider than {width} px: {lay['viewport']} px"
        assert lay["firstAfterHeader"] == "summary", "the report must open with the summary"
        assert lay["summaryTop"] < 400, lay["summaryTop"]
        assert [c["id"] for c in lay["cards"]] == [f"card-{s}" for s in scenarios]
        # nothing in the summary scrolls sideways or sticks out of it, and the page does not scroll either
        assert lay["page"][0] <= lay["page"][1], (width, lay["page"])
        assert lay["summary"][0] <= lay["summary"][1], (width, lay["summary"])
        assert all(c["scroll"] <= c["client"] for c in lay["cards"]), (width, lay["cards"])
        assert lay["scrolling"] == [] and lay["stickingOut"] == [], (width, lay["scrolling"], lay["stickingOut"])
        for f in lay["forests"]:
            assert f["widthAttr"] is None and f["viewBox"], f  # sized by its box, not a fixed width
            assert f["width"] <= f["cardWidth"] + 0.5, f
            # drawn at least at its design size, so its 8-9 pt text stays readable at 420 px
            assert f["width"] >= float(f["viewBox"].split()[2]), (width, f)
        shot: Path = seen["screenshot"]
        assert shot.name == f"report-{width}.png" and shot.parent == page["screenshot"].parent
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a phone stacks the cards; a desktop puts two side by side when there are two or more
    phone, desk = page["widths"][420]["layout"]["cards"], page["widths"][1280]["layout"]["cards"]
    assert len({round(c["top"]) for c in phone}) == len(phone)
    if len(desk) >= 2:
        assert round(desk[0]["top"]) == round(desk[1]["top"])


def test_synthetic_summary_fits_a_desktop_and_a_phone(synthetic_page: dict[str, Any]) -> None:
    _check_summary_layout(synthetic_page, ["json", "compute", "image", "async", "gil-trap"])
    lay = synthetic_page["widths"][420]["layout"]
    assert len(lay["forests"]) == 4  # the GIL-trap card has no valid comparison to plot
    text = {c["id"]: c["text"] for c in lay["cards"]}
    assert text["card-json"].startswith("json\n\nStay on 3.14 × 2 processes on uvicorn: it served 1.12× as much")
    assert "not measured in this run (run gil-lab capacity)" in text["card-json"]
    assert "The GIL came back on in 3.14t" in text["card-gil-trap"]


def test_paired_summary_with_capacity_and_diagnosis(paired_page: dict[str, Any]) -> None:
    _check_summary_layout(paired_page, ["json"])
    card = paired_page["widths"][420]["layout"]["cards"][0]
    assert "41.5 rps" in card["text"] and "between 39.0 and 44.0" in card["text"]
    assert "serial section on the event loop" in card["text"]
    assert "peak PSS" in card["text"]
    assert paired_page["problems"] == []
    assert [u for u in paired_page["requests"] if not u.startswith(("file:", "data:", "about:"))] == []
