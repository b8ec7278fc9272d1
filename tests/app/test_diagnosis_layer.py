"""What the layer tells the diagnosis: which thread is what, the globals an endpoint reads, the in-process probe."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from fastapi.testclient import TestClient
from gil_lab_layer import hotglobals
from gil_lab_layer.factory import build
from gil_lab_layer.settings import AppTarget, LayerSettings

from .conftest import FREE_THREADED_BUILD, PROJECT_ROOT, clean_env
from .team_apps import POOLED, write_team_app


def test_the_event_loop_is_the_thread_the_layer_was_called_on_never_a_pool_named_alike(tmp_path: Path) -> None:
    write_team_app(tmp_path, POOLED, package="pooled_svc")
    sys.path.insert(0, str(tmp_path))
    try:
        layer = build(LayerSettings(AppTarget("pooled_svc.main", "app"), tmp_path, 4))
        with TestClient(layer) as client:
            loop = client.get("/report").json()["loop"]
            client.get("/local")
            threads = client.get("/lab/threads").json()["threads"]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("pooled_svc.main", None)
        sys.modules.pop("pooled_svc", None)
    kinds = {t["tid"]: t["kind"] for t in threads}
    assert kinds[loop] == "event-loop"
    pool = [t for t in threads if t["kind"] == "executor"]
    assert pool and all(t["name"] == "ThreadPoolExecu" for t in pool)  # the kernel keeps 15 characters
    assert [t["kind"] for t in threads].count("event-loop") == 1
    assert any(t["kind"] == "anyio-worker" for t in threads)


def _module(tmp_path: Path, name: str) -> Path:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent("""
        LIMIT = 1_000_003
        TABLE = {"a": 1}

        def helper(n):
            return n % LIMIT

        def endpoint(n):
            return helper(n) + len(TABLE)
    """))
    return tmp_path


def _reads(tmp_path: Path, name: str, compiled: bool) -> list[dict[str, object]]:
    """The module's globals as a fresh process sees them, imported from source or from a .pyc."""
    code = (f"import json, sys; sys.path.insert(0, {str(tmp_path)!r}); from gil_lab_layer import hotglobals; "
            f"import {name}; print(json.dumps(hotglobals.global_reads({name}.endpoint, {str(tmp_path)!r})))")
    env = clean_env({} if compiled else {"PYTHONDONTWRITEBYTECODE": "1"})
    if compiled:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "py_compile", str(tmp_path / f"{name}.py")], check=True, env=env)
    else:
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "no-cache")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                         timeout=60, check=True).stdout
    return json.loads(out)


def test_the_globals_an_endpoint_reads_are_followed_into_the_apps_functions(tmp_path: Path) -> None:
    reads = _reads(_module(tmp_path, "hot_source"), "hot_source", compiled=False)
    assert [(r["function"], r["name"], r["type"]) for r in reads] == [
        ("hot_source.endpoint", "TABLE", "dict"), ("hot_source.helper", "LIMIT", "int")]
    assert all(r["immortal"] is False for r in reads)


def test_on_3_14t_a_constant_loaded_from_a_pyc_is_immortal_and_compiled_from_source_it_is_not(tmp_path: Path) -> None:
    reads = {r["name"]: r["immortal"] for r in _reads(_module(tmp_path, "hot_pyc"), "hot_pyc", compiled=True)}
    assert reads["LIMIT"] is FREE_THREADED_BUILD  # the GIL build never makes module constants immortal
    assert reads["TABLE"] is False  # a dict is built at import: never a constant


def test_unwrap_reaches_the_function_behind_partials_and_methods() -> None:
    import functools

    def target() -> None: ...

    class Holder:
        def method(self) -> None: ...

    assert hotglobals.unwrap(functools.partial(target)) is target
    assert hotglobals.unwrap(Holder().method) is Holder.method
    assert hotglobals.unwrap(len) is None


def test_the_probe_calls_each_endpoint_through_asgi_from_one_and_two_threads(tmp_path: Path) -> None:
    write_team_app(tmp_path, POOLED, package="probed_svc")
    request = {"endpoints": [{"key": "GET /local", "method": "GET", "path": "/local", "query": "", "headers": [],
                              "body_base64": None},
                             {"key": "GET /missing", "method": "GET", "path": "/missing", "query": "", "headers": [],
                              "body_base64": None}],
               "loads_module": None, "thread_counts": [1, 2], "repeats": 2, "step_s": 0.1, "warmup_s": 0.05}
    (tmp_path / "request.json").write_text(json.dumps(request))
    proc = subprocess.run([sys.executable, "-m", "gil_lab_layer.probe", str(tmp_path / "request.json"),
                           str(tmp_path / "out.json")], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=clean_env({"LAB_APP": "probed_svc.main:app", "LAB_APP_DIR": str(tmp_path)}))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    local, missing = report["endpoints"]
    assert (local["route"], local["endpoint"], local["status"], local["error"]) == (
        "/local", "probed_svc.main.local", 200, None)
    assert [s["threads"] for s in local["steps"]] == [1, 2, 1, 2]
    assert all(s["calls"] >= 1 and s["wall_s"] > 0 and s["cpu_s"] > 0 for s in local["steps"])
    assert missing["status"] == 404 and "answered 404" in missing["error"] and missing["steps"] == []
    assert [s["threads"] for s in report["control"]] == [1, 2, 1, 2]
    assert report["python"]["free_threaded"] is FREE_THREADED_BUILD


def test_lab_globals_says_per_route_what_the_running_server_holds() -> None:
    from .conftest import layered

    with TestClient(layered()) as client:
        answer = client.get("/lab/globals").json()
    pure = next(e for e in answer["endpoints"] if e["route"] == "/compute/pure")
    assert pure["endpoint"] == "app.builtin.compute_routes.compute_pure"
    (modulus,) = [g for g in pure["globals"] if g["name"] == "_MODULUS"]
    assert modulus["function"] == "app.workloads.compute_work.pure" and modulus["type"] == "int"
    assert isinstance(modulus["immortal"], bool)
