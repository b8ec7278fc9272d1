"""GET /lab/runtime on each interpreter, and the promise that the app never turns the GIL back on."""

from __future__ import annotations

import json
import os
import platform
import sys
import threading

import anyio
import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from app import gilwatch
from app.main import create_app
from app.settings import DEFAULT_THREADS, Settings

from .conftest import FREE_THREADED_BUILD, MakeClient, run_python

ft_only = pytest.mark.skipif(not FREE_THREADED_BUILD, reason="needs the free-threaded build (3.14t)")


def test_runtime_describes_this_interpreter(client: TestClient) -> None:
    runtime = client.get("/lab/runtime").json()
    assert runtime["python_version"] == platform.python_version()
    assert runtime["implementation"] == sys.implementation.name
    assert runtime["free_threaded"] is FREE_THREADED_BUILD
    assert runtime["gil_enabled"] is sys._is_gil_enabled()
    assert runtime["gil_flag"] == sys.flags.gil
    assert isinstance(runtime["gil_enabled_by"], list)
    assert runtime["thread_limit"] == DEFAULT_THREADS
    assert runtime["pid"] == os.getpid()
    assert runtime["threads"] >= 1
    assert runtime["packages"]["fastapi"]
    assert runtime["packages"]["pillow"]
    assert runtime["orjson_available"] is (runtime["packages"]["orjson"] is not None)


def test_gil_state_matches_the_build(client: TestClient) -> None:
    """On 3.14t the GIL is off with the app and its dependencies loaded; on 3.14 it is always on."""
    runtime = client.get("/lab/runtime").json()
    assert runtime["gil_enabled"] is not FREE_THREADED_BUILD
    if FREE_THREADED_BUILD:
        assert runtime["gil_enabled_by"] == []


def test_server_name_and_version_come_from_the_environment(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_SERVER", "granian")
    monkeypatch.setenv("LAB_SERVER_VERSION", "9.9.9")
    assert make_client().get("/lab/runtime").json()["server"] == {"name": "granian", "version": "9.9.9"}


def test_thread_limit_is_the_configured_one(make_client: MakeClient) -> None:
    assert make_client(Settings(threads=3)).get("/lab/runtime").json()["thread_limit"] == 3


def test_lifespan_sets_the_limit_on_every_event_loop() -> None:
    """granian on 3.14t runs one loop per worker thread and the lifespan on each of them."""
    app = create_app(Settings(threads=5))
    seen: list[int] = []

    async def run_lifespan() -> None:
        async with app.router.lifespan_context(app):
            seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)

    workers = [threading.Thread(target=anyio.run, args=(run_lifespan,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen == [5, 5, 5]


APP_START = """
import json, sys
from fastapi.testclient import TestClient
import app.main
{extra}
with TestClient(app.main.app) as client:
    runtime = client.get("/lab/runtime").json()
    assert client.get("/compute/pure", params={{"n": 1000}}).status_code == 200
print(json.dumps({{"gil": sys._is_gil_enabled(), "runtime": runtime}}))
"""


def start_app(extra: str = "", env: dict[str, str] | None = None) -> dict[str, object]:
    """Import and start the app in a fresh interpreter; its GIL state afterwards and its /lab/runtime."""
    result = run_python(APP_START.format(extra=extra), env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@ft_only
def test_starting_the_app_keeps_the_gil_off() -> None:
    started = start_app()
    assert started["gil"] is False
    assert started["runtime"]["gil_enabled"] is False  # type: ignore[index]


@ft_only
def test_server_extensions_keep_the_gil_off() -> None:
    """What uvicorn and granian import before the app (httptools, uvloop, granian's core)."""
    started = start_app("import uvicorn, httptools, uvloop, granian, granian._granian")
    assert started["gil"] is False


@ft_only
def test_python_gil_1_forces_the_gil_on_and_the_runtime_says_so() -> None:
    runtime = start_app(env={"PYTHON_GIL": "1"})["runtime"]
    assert runtime["gil_enabled"] is True  # type: ignore[index]
    assert runtime["gil_flag"] == 1  # type: ignore[index]
    assert runtime["free_threaded"] is True  # type: ignore[index]


def test_gil_warnings_are_recorded_even_under_w_ignore() -> None:
    """The exact warning CPython emits names the module; -W ignore must not hide it."""
    warn = f"import warnings; warnings.warn({gilwatch.MESSAGE + ' ' + repr('fake_ext')!r}, RuntimeWarning)"
    result = run_python(APP_START.format(extra=warn), {"PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    runtime = json.loads(result.stdout.strip().splitlines()[-1])["runtime"]
    assert runtime["gil_enabled_by"] == ["fake_ext"]


def test_the_site_hook_is_installed_in_this_environment(client: TestClient) -> None:
    """The lab's .pth hook records warnings raised before the app is imported (servers import first)."""
    assert client.get("/lab/runtime").json()["gilwatch_site_hook"] is True


def test_gilwatch_ignores_other_warnings() -> None:
    assert gilwatch.record("some other runtime warning") is None
    assert gilwatch.installed()
