"""Crashes, hangs and memory growth end to end: real servers on both interpreters, real Locust, real faults.

- a service whose route segfaults when two requests overlap on 3.14t and whose other route
  deadlocks when two overlap on 3.14: one `gil-lab compare --soak 30s` run records the
  traceback with the endpoints in flight, every thread's stack of the hang, goes on to its
  next comparison with fresh servers, soaks both, and the report and summary.json hold it all;
- a route that keeps 16 KB per request is flagged by a 2-minute soak, and examples/bookshop
  is not (both soaks run at once, each holding both interpreters' servers side by side).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from loadtests.results.records.safety import SafetyRecord
from loadtests.results.records.soak import SoakCheck
from loadtests.results.store import load_run
from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup
from tests.e2e.own_service import write

pytestmark = pytest.mark.slow
BOOKSHOP = PROJECT_ROOT / "examples" / "bookshop"

FAULTY = '''
"""Two faults, each armed on one interpreter so that one short run shows both."""

import ctypes
import itertools
import sys
import threading
import time

from fastapi import FastAPI

app = FastAPI()
FREE_THREADED = not sys._is_gil_enabled()
_guard = threading.Lock()
_inside = 0
FIRST, SECOND = threading.Lock(), threading.Lock()
_numbers = itertools.count()


@app.get("/work")
def work(n: int = 20000) -> dict:
    return {"total": sum(i * i for i in range(n))}


@app.get("/crash")
def crash() -> dict:
    """Two requests inside at once on 3.14t: a read of address 0, as a C extension that is not thread-safe might."""
    global _inside
    with _guard:
        _inside += 1
        both = _inside > 1
    try:
        if both and FREE_THREADED:
            ctypes.string_at(0)
        time.sleep(0.05)
        return {"ok": True}
    finally:
        with _guard:
            _inside -= 1


@app.get("/orders/{order_id}")
def order(order_id: int) -> dict:
    """Two locks in an order the request decides: on 3.14 two overlapping requests wait for each other for ever."""
    n = next(_numbers)
    first, second = (FIRST, SECOND) if n % 2 or FREE_THREADED else (SECOND, FIRST)
    with first:
        time.sleep(0.05)
        with second:
            return {"order": order_id}
'''

FAULTY_LOAD = '''
import random

from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task(4)
    def work(self):
        self.client.get("/work")

    @task
    def crash(self):
        self.client.get("/crash")

    @task
    def order(self):
        self.client.get(f"/orders/{random.randint(1, 99)}", name="/orders/[id]")
'''

LEAKY = '''
from fastapi import FastAPI

app = FastAPI()
KEPT = []


@app.get("/remember")
def remember() -> dict:
    KEPT.append(bytearray(16 * 1024))  # never released: 16 KB a request
    return {"kept": len(KEPT)}


@app.get("/work")
def work(n: int = 2000) -> dict:
    return {"total": sum(i * i for i in range(n))}
'''

LEAKY_LOAD = '''
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(0.02, 0.05)

    @task
    def remember(self):
        self.client.get("/remember")

    @task(2)
    def work(self):
        self.client.get("/work")
'''


def service(root: Path, package: str, source: str, load: str) -> Path:
    """A team's service in the lab's own environments (FastAPI is there): its package and Locust file."""
    write(root / package / "__init__.py", "")
    write(root / package / "main.py", source)
    write(root / "locustfile.py", load)
    return root


def gil_lab(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    require_setup()
    return subprocess.run([str(GIL_LAB), *args], cwd=PROJECT_ROOT, env=lab_env(), capture_output=True, text=True,
                          timeout=timeout)


def only_run(out: Path) -> Path:
    (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
    return run_dir


def test_a_crash_and_a_hang_reach_the_report_and_the_run_goes_on(tmp_path: Path) -> None:
    app_dir = service(tmp_path / "faulty", "faulty", FAULTY, FAULTY_LOAD)
    out = tmp_path / "results"
    result = gil_lab("compare", "--app", "faulty.main:app", "--app-dir", str(app_dir), "--locustfile",
                     str(app_dir / "locustfile.py"), "--preset", "smoke", "--warmup", "1", "--duration", "1.5",
                     "--repeats", "2", "--users", "4,8", "--no-probe", "--no-safety", "--soak", "30s",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    run_dir = only_run(out)
    run = load_run(run_dir)
    # both comparisons ran: after the first one's servers died and hung, the second started fresh ones
    assert [c.stopping for c in run.comparisons] == ["server failed", "server failed"], run.comparisons
    crashed = [c for c in run.cells if c.crash is not None]
    hung = [c for c in run.cells if c.hang is not None]
    assert {c.config.interpreter for c in crashed} == {"3.14t"} and {c.config.interpreter for c in hung} == {"3.14"}
    assert {c.comparison_id for c in crashed} == {c.comparison_id for c in run.comparisons}
    crash = crashed[0].crash
    assert crash is not None and crash.fatal == "Fatal Python error: Segmentation fault"
    assert "faulty/main.py\", line" in crash.traceback and " in crash\n" in crash.traceback
    assert "GET /crash" in {r.endpoint for r in crash.in_flight}
    hang = hung[0].hang
    assert hang is not None and "GET /orders/{order_id}" in {r.endpoint for r in hang.in_flight}
    assert any("in order" in stack and "[AnyIO worker" in stack for stack in hang.stacks)
    assert hung[0].outcome == "hung" and min(r.seconds for r in hang.in_flight) > hang.bound_s
    # the soak held both servers: 3.14t died with its traceback, 3.14 hung with its stacks
    assert isinstance(run.safety, SafetyRecord) and isinstance(run.safety.soak, SoakCheck)
    soaked = {s.interpreter: s for s in run.safety.soak.series}
    assert soaked["3.14t"].crash is not None and soaked["3.14"].hang is not None
    summary = json.loads((run_dir / "summary.json").read_text())["safety"]
    assert {c["interpreter"] for c in summary["crashes"]} == {"3.14t"} and len(summary["crashes"]) >= 3
    assert all(c["traceback"].startswith("Fatal Python error: Segmentation fault") for c in summary["crashes"])
    assert all(h["interpreter"] == "3.14" and h["stacks"] and h["bound_s"] >= 1.0 for h in summary["hangs"])
    report = (run_dir / "report.md").read_text()
    assert "**Crash** 3.14t in a window of 3.14t uvicorn w1 t8: Fatal Python error: Segmentation fault" in report
    assert "**Hang** 3.14 in a window of 3.14 uvicorn w1 t8" in report and "in order" in report
    assert "**Not yet**: " in report and "crashes (blocks moving): on 3.14t only" in report
    assert "locustfile: Not yet: " in result.stdout and "crash: 3.14t in a window" in result.stdout


def soak(app: str, app_dir: Path, out: Path, extra: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return gil_lab("safety", "--app", app, "--app-dir", str(app_dir), "--locustfile", str(app_dir / "locustfile.py"),
                   *extra, "--no-responses", "--soak", "2m", "--out", str(out))


def test_a_two_minute_soak_flags_a_leak_and_not_the_bookshop(tmp_path: Path) -> None:
    """A 2-minute soak: each service's two servers (3.14 and 3.14t) under load side by side for two minutes."""
    leaky = service(tmp_path / "leaky", "leaky", LEAKY, LEAKY_LOAD)
    with ThreadPoolExecutor(2) as pool:  # the two soaks at once: two minutes of wall time for both
        leak_job = pool.submit(soak, "leaky.main:app", leaky, tmp_path / "leak-out")
        shop_job = pool.submit(soak, "bookshop.main:app", BOOKSHOP, tmp_path / "shop-out",
                               ("--requirements", str(BOOKSHOP / "requirements.txt")))
        leak, shop = leak_job.result(), shop_job.result()
    assert leak.returncode == 0, leak.stderr[-3000:]
    assert shop.returncode == 0, shop.stderr[-3000:]
    memory = {m["interpreter"]: m for m in
              json.loads((only_run(tmp_path / "leak-out") / "summary.json").read_text())["safety"]["memory"]}
    shop_memory = json.loads((only_run(tmp_path / "shop-out") / "summary.json").read_text())["safety"]["memory"]
    for name, rows in (("leak", list(memory.values())), ("bookshop", shop_memory)):  # shown with -s
        for m in rows:
            print(f"{name} {m['interpreter']}: {m['slope_mb_per_1000']:+.2f} MB per 1,000 requests "
                  f"({m['ci_low']:+.2f} to {m['ci_high']:+.2f}), grows={m['grows']}, {m['requests']} requests")
    for label in ("3.14", "3.14t"):  # 16 KB on every third request: about 5 MB per 1,000
        assert memory[label]["grows"] and 3.0 < memory[label]["ci_low"] <= memory[label]["slope_mb_per_1000"], memory
    assert leak.stdout.startswith("Safe to move? No: memory grows on 3.14 and 3.14t")
    assert [m["grows"] for m in shop_memory] == [False, False], shop_memory
    assert all(m["requests"] > 300 and m["slope_mb_per_1000"] is not None for m in shop_memory)
    # the report draws both interpreters' memory through the soak
    report = gil_lab("report", str(only_run(tmp_path / "leak-out")))
    assert report.returncode == 0, report.stderr[-2000:]
    md = (only_run(tmp_path / "leak-out") / "report.md").read_text()
    assert "![Memory of each interpreter's server under the soak" in md and "charts/soak-memory.png" in md
    assert (only_run(tmp_path / "leak-out") / "charts" / "soak-memory.png").is_file()
    assert "| 3.14t | " in md and "| yes |" in md
