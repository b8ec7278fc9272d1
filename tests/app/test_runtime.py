"""GET /lab/runtime on each interpreter (served by the layer), and the promise that the app never turns the GIL back on."""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata

import pytest
from fastapi.testclient import TestClient
from gil_lab_layer import gilwatch
from gil_lab_layer.settings import DEFAULT_THREADS

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
    assert runtime["app"]["target"] == "app.main:app"
    assert runtime["app"]["framework"] == {"name": "fastapi", "version": metadata.version("fastapi")}


def test_packages_cover_every_installed_distribution(client: TestClient) -> None:
    """A team's whole tree decides the GIL state, so every distribution is listed, not only the lab's."""
    packages = client.get("/lab/runtime").json()["packages"]
    installed = {dist.metadata["Name"].lower().replace("_", "-") for dist in metadata.distributions()}
    assert installed <= set(packages)
    assert packages["pytest"] == metadata.version("pytest")  # not one of the lab's named packages
    assert "httptools" in packages and "uvloop" in packages  # the named ones are always there


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


APP_START = """
import json, sys
from fastapi.testclient import TestClient
import gil_lab_layer.serve
{extra}
with TestClient(gil_lab_layer.serve.app) as client:
    runtime = client.get("/lab/runtime").json()
    assert client.get("/compute/pure", params={{"n": 1000}}).status_code == 200
print(json.dumps({{"gil": sys._is_gil_enabled(), "runtime": runtime}}))
"""


def start_app(extra: str = "", env: dict[str, str] | None = None) -> dict[str, object]:
    """Import and start the layered app in a fresh interpreter; its GIL state afterwards and its /lab/runtime."""
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


def test_without_the_site_hook_the_watch_says_so() -> None:
    """``python -S`` skips .pth files: the layer still installs the watch itself, and reports the hook missing."""
    code = ("import sys, sysconfig; sys.path.append(sysconfig.get_path('purelib')); "
            "import gil_lab_layer.gilwatch as w; w.install(); print(w.installed(), w.started_by_site_hook())")
    normal, bare = run_python(code), run_python(code, flags=("-S",))
    assert normal.stdout.split() == ["True", "True"], normal.stderr
    assert bare.stdout.split() == ["True", "False"], bare.stderr


def test_gilwatch_ignores_other_warnings() -> None:
    assert gilwatch.record("some other runtime warning") is None
    assert gilwatch.installed()
