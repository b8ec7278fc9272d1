"""Which requests the probe sends, and the probe itself on a real app: it tells a contending endpoint apart."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.analysis.probe_table import endpoint_table
from loadtests.measure.endpoint_probe import (
    ProbeRequest,
    ProbeSettings,
    requests_from_preflight,
    run_probe,
    thread_counts,
)
from loadtests.measure.servers import ServerSettings
from loadtests.results.records import Preflight, PreflightRequest, PreflightTask, ProbeRun
from loadtests.results.store import load_run
from tests.conftest import PROJECT_ROOT, require_setup


def request(method: str, path: str, route: str | None, status: int | None = 200, **extra: str) -> PreflightRequest:
    return PreflightRequest(method, path, path, status, None, route, **extra)


def test_one_request_per_route_in_the_order_the_load_sent_them_with_query_and_body() -> None:
    tasks = (PreflightTask("Reader", "book", (request("GET", "/books/1", "/books/{book_id}", query="full=1"),
                                              request("GET", "/books/2", "/books/{book_id}")), None),
             PreflightTask("Buyer", "order", (request("POST", "/orders", "/orders", body_base64="e30=",
                                                      content_type="application/json"),
                                              request("GET", "/broken", "/broken", 500),
                                              request("GET", "/gone", None, None)), None))
    walked = requests_from_preflight([Preflight("3.14", "uvicorn", tasks, 1.0),
                                      Preflight("3.14t", "uvicorn", tasks, 1.0)])
    assert walked == [ProbeRequest("GET /books/{book_id}", "GET", "/books/1", "full=1"),
                      ProbeRequest("POST /orders", "POST", "/orders", "", (("content-type", "application/json"),),
                               "e30=")]


def test_thread_counts_start_at_one_and_two_and_reach_the_cores() -> None:
    assert thread_counts(1) == (1, 2)
    assert thread_counts(2) == (1, 2)
    assert thread_counts(6) == (1, 2, 4, 6)
    with pytest.raises(ValueError, match="must include 1"):
        ProbeSettings((2, 4))


CONTEND = """
from fastapi import FastAPI

app = FastAPI()
SHARED = {}


@app.get("/shared")
def shared() -> dict:
    table = SHARED
    for i in range(60_000):
        table[i & 7] = i
    return {"n": len(table)}


@app.get("/local")
def local() -> dict:
    table = {}
    for i in range(60_000):
        table[i & 7] = i
    return {"n": len(table)}
"""
ATTEMPTS = 3
#: Plain threads beside the probe's steps must have kept this many of the 2 cores busy: a machine that is partly
#: busy shows a weaker, noisier signal than this test may judge.
QUIET_CORES = 1.6
CONTENTION = ("contending", "serialised")


def probe(tmp_path: Path, env: str, label: str) -> ProbeRun:
    server = ServerSettings(python=PROJECT_ROOT / ".envs" / env / "bin" / "python", app="contend_svc.main:app",
                            app_dir=str(tmp_path))
    requests = [ProbeRequest("GET /shared", "GET", "/shared"), ProbeRequest("GET /local", "GET", "/local")]
    return run_probe("contend", label, server, requests, None, ProbeSettings((1, 2), repeats=4, step_s=0.4),
                     tmp_path / f"{label}.log")


@pytest.mark.slow
def test_the_probe_tells_threads_writing_one_shared_dict_from_threads_that_keep_to_their_own(tmp_path: Path) -> None:
    """Real app environments, the real probe process. A machine that does not let two threads overlap is said
    (`unmeasured`, never a false verdict) and the probe is tried again; only a machine that never does skips."""
    require_setup()
    package = tmp_path / "contend_svc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(textwrap.dedent(CONTEND))
    base = load_run(PROJECT_ROOT / "tests" / "fixtures" / "run-json" / "v3" / "smoke-paired.json")  # 2 usable cores
    gil = probe(tmp_path, "app-gil", "3.14")
    assert [e.key for e in gil.endpoints] == ["GET /shared", "GET /local"]
    assert all(e.error is None and e.route is not None and len(e.steps) == 8 for e in gil.endpoints)
    shared_read = next(g for g in gil.endpoints[0].globals if g.name == "SHARED")
    assert shared_read.type == "dict" and shared_read.immortal is False
    for _ in range(ATTEMPTS):
        ft = probe(tmp_path, "app-ft", "3.14t")
        shared, local = endpoint_table(replace(base, probes=(gil, ft)))
        if min(shared.control_cores or 0, local.control_cores or 0) >= QUIET_CORES:
            break
    else:
        pytest.skip(f"the machine never left the probe two free cores ({shared.why}; {local.why})")
    # Threads writing one dict contend for its per-object lock: their CPU per call grows, or they wait in turn.
    assert shared.verdict in CONTENTION, f"{shared.verdict}: {shared.why}"
    assert local.verdict not in CONTENTION, f"{local.verdict}: {local.why}"
    assert shared.single_thread_cost is not None and local.single_thread_cost is not None
    assert ft.endpoints[0].control and all(s.threads == 2 for s in ft.endpoints[0].control)
