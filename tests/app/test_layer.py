"""The ASGI layer around any ASGI 3 app: /lab/ answered, everything else passed through, bad apps refused."""

from __future__ import annotations

import filecmp
import itertools
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gil_lab_layer import faults, gilwatch
from gil_lab_layer.errors import AppImportError, LayerSettingsError, NotAnAsgiApp, ReservedPathError
from gil_lab_layer.factory import build, checked
from gil_lab_layer.settings import AppTarget, LayerSettings, thread_limit
from gil_lab_layer.threads import ThreadLimit
from gil_lab_layer.wrapper import LabLayer
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from .conftest import PROJECT_ROOT, run_python
from .team_apps import FASTAPI, RAW, STARLETTE, write_team_app

_names = itertools.count()
Team = Callable[..., LabLayer]


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    """Build the layer around a team app written to disk (a fresh package name each time, in this process)."""
    monkeypatch.setattr(sys, "path", list(sys.path))

    def make(source: str, threads: int = 8) -> LabLayer:
        package = f"team_{next(_names)}_{tmp_path.name.replace('-', '_')}"
        write_team_app(tmp_path, source, package=package)
        return build(LayerSettings(AppTarget(f"{package}.main", "app"), tmp_path, threads))

    return make


def test_the_installed_layer_is_this_checkout() -> None:
    """Tests and servers use the copy in the environment: it must be app/layer/ as it is now."""
    import gil_lab_layer

    installed = Path(gil_lab_layer.__file__).parent
    sources = sorted(path.name for path in (PROJECT_ROOT / "app" / "layer").glob("*.py"))
    assert sorted(path.name for path in installed.glob("*.py")) == sources, "run `make setup`"
    _, mismatch, errors = filecmp.cmpfiles(PROJECT_ROOT / "app" / "layer", installed, sources, shallow=False)
    assert not mismatch and not errors, f"{mismatch or errors} differ from app/layer/: run `make setup`"


def test_a_fastapi_app_is_wrapped(team: Team) -> None:
    with TestClient(team(FASTAPI)) as client:
        runtime = client.get("/lab/runtime").json()
        assert runtime["app"]["framework"]["name"] == "fastapi"
        assert runtime["app"]["target"].endswith(".main:app")
        assert client.post("/orders", json={"sku": "A", "qty": 2}).json() == {"sku": "A", "qty": 2}
        assert client.get("/spin", params={"n": 10}).json() == {"total": 45}
        assert client.get("/lab/loads").json() == []  # no drop-in specs: an empty list, not a 404
        assert client.get("/openapi.json").status_code == 200  # the app's own routes are untouched


def test_a_starlette_app_is_wrapped_lifespan_and_websocket_included(team: Team) -> None:
    layer = team(STARLETTE, threads=3)
    with TestClient(layer) as client:
        hello = client.get("/hello").json()
        assert hello["team"] == "starlette" and hello["events"] == ["startup"]
        assert hello["limit_at_startup"] == 3  # the layer set the limit before the app's lifespan ran
        assert client.get("/api/items").json() == ["a", "b"]
        assert client.post("/api/items", json={"x": 1}).json() == {"x": 1}
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("hi")
            assert websocket.receive_text() == "echo:hi"
        assert client.get("/lab/runtime").json()["app"]["framework"]["name"] == "starlette"
    module = sys.modules[layer.description["target"].split(":")[0]]
    assert module.EVENTS == ["startup", "shutdown"]


def test_a_raw_asgi_callable_is_wrapped(team: Team) -> None:
    layer = team(RAW)
    with TestClient(layer) as client:
        assert client.get("/anything/at/all").text == "raw:/anything/at/all"
        assert client.get("/lab/runtime").json()["app"]["framework"] is None
        assert client.get("/lab/loads").json() == []
        assert client.get("/laboratory").text == "raw:/laboratory"  # only /lab and /lab/... are reserved
    assert sys.modules[layer.description["target"].split(":")[0]].EVENTS == ["startup", "shutdown"]


def test_other_lab_paths_and_methods_never_reach_the_app(team: Team) -> None:
    with TestClient(team(RAW)) as client:
        assert client.get("/lab/other").status_code == 404
        assert "/lab/runtime" in client.get("/lab").json()["detail"]
        assert "/lab/inflight" in client.get("/lab").json()["detail"]
        refused = client.post("/lab/runtime")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
        assert client.head("/lab/runtime").status_code == 200


def test_the_layer_counts_the_apps_requests_in_flight_and_not_its_own() -> None:
    """A request the app is still serving counts until it ends; /lab/ requests never count."""
    import asyncio
    import os

    from .conftest import layered

    layer = layered()
    with TestClient(layer) as client:
        assert client.get("/lab/inflight").json() == {"in_flight": 0, "pid": os.getpid()}
        started, release = asyncio.Event(), asyncio.Event()
        seen: list[int] = []

        async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
            started.set()
            await release.wait()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def scenario() -> None:
            layer.app = slow
            scope = {"type": "http", "path": "/slow", "method": "GET", "headers": []}
            messages: list[dict] = []

            async def receive() -> dict:
                return {"type": "http.request", "body": b""}

            async def send(message: dict) -> None:
                messages.append(message)

            task = asyncio.create_task(layer(scope, receive, send))
            await started.wait()
            seen.append(layer.in_flight)
            release.set()
            await task
            seen.append(layer.in_flight)

        asyncio.run(scenario())
        assert seen == [1, 0]


def test_the_built_in_app_keeps_its_load_specs_on_state() -> None:
    from app.main import create_app

    from .conftest import layered

    with TestClient(layered()) as client:
        assert client.get("/lab/loads").json() == create_app().state.loads != []


def test_middleware_wrapped_apps_are_seen_through() -> None:
    """A team's ``app = SomeMiddleware(FastAPI())``: its route table, framework and state are still found."""
    from starlette.middleware.gzip import GZipMiddleware

    clashing = FastAPI()
    clashing.get("/lab/status")(lambda: {})
    with pytest.raises(ReservedPathError, match="/lab/status"):
        checked(GZipMiddleware(clashing), AppTarget("svc", "app"))
    inner = FastAPI()
    inner.state.loads = [{"module": "x"}]
    layer = LabLayer(GZipMiddleware(inner), ThreadLimit(8), "svc:app")
    assert layer.description["framework"]["name"] == "fastapi"
    assert layer.loads() == [{"module": "x"}]


@pytest.mark.parametrize(
    ("make", "listed"),
    [
        (lambda: _fastapi_with("/lab/status"), "GET /lab/status"),
        (lambda: Starlette(routes=[Mount("/lab", routes=[Route("/x", _plain)])]), "/lab/x"),
        (lambda: Starlette(routes=[Mount("/lab", app=_plain)]), "MOUNT /lab"),
        (lambda: Starlette(routes=[Mount("/v1", routes=[Route("/ok", _plain)]), Route("/lab", _plain)]), "/lab "),
    ],
    ids=["fastapi-route", "starlette-mounted-routes", "mounted-app", "bare-prefix"],
)
def test_an_app_serving_the_reserved_prefix_is_refused(make: Callable[[], object], listed: str) -> None:
    with pytest.raises(ReservedPathError) as caught:
        checked(make(), AppTarget("svc.main", "app"))
    message = str(caught.value)
    assert listed in message and "/lab/" in message and "Move them under another prefix" in message


def test_a_mount_elsewhere_is_not_a_conflict() -> None:
    app = Starlette(routes=[Mount("/api", routes=[Route("/lab/x", _plain)])])  # /api/lab/x
    assert checked(app, AppTarget("svc", "app")) is app


async def _plain(*_: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _fastapi_with(path: str) -> FastAPI:
    app = FastAPI()
    app.get(path)(lambda: {})
    return app


def _wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    return [b""]


def _asgi2(scope: dict[str, Any]) -> Callable[..., Any]:
    return _plain


def _factory() -> FastAPI:
    return FastAPI()


async def _two(scope: dict[str, Any], receive: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (_wsgi, "a WSGI app"),
        (_asgi2, "an ASGI 2 app"),
        (_factory, "app factory"),
        (_two, "async callable taking 2"),
        ({"routes": []}, "not callable"),
        (FastAPI, "not an application instance"),
        ("app", "not callable"),
    ],
    ids=["wsgi", "asgi2", "factory", "two-args", "dict", "class", "str"],
)
def test_an_attribute_that_is_no_asgi_3_app_is_refused(obj: object, reason: str) -> None:
    with pytest.raises(NotAnAsgiApp) as caught:
        checked(obj, AppTarget("svc.main", "application"))
    assert "LAB_APP=svc.main:application" in str(caught.value) and reason in str(caught.value)


def test_asgi_3_apps_of_every_shape_are_accepted() -> None:
    class Instance:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...

    async def function(scope: Any, receive: Any, send: Any) -> None: ...

    for app in (Instance(), function, FastAPI(), Starlette()):
        assert checked(app, AppTarget("svc", "app")) is app


@pytest.mark.parametrize("raw", ["0", "-4", "eight", "2.5", "1025"])
def test_bad_lab_threads_is_refused(raw: str) -> None:
    with pytest.raises(LayerSettingsError, match="LAB_THREADS must be an integer from 1 to 1024"):
        thread_limit(raw)


@pytest.mark.parametrize("raw", ["", "main", "a.b:", ":app", "my-app.main:app", "main:app()"])
def test_a_malformed_lab_app_is_refused(raw: str) -> None:
    with pytest.raises(LayerSettingsError, match="LAB_APP must be MODULE:ATTR"):
        LayerSettings.from_env({"LAB_APP": raw or " "})


def test_settings_defaults_are_the_built_in_app_from_the_current_directory(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = LayerSettings.from_env({})
    assert (str(settings.target), settings.app_dir, settings.threads) == ("app.main:app", tmp_path.resolve(), 8)
    with pytest.raises(LayerSettingsError, match="LAB_APP_DIR names .* not a directory"):
        LayerSettings.from_env({"LAB_APP_DIR": str(tmp_path / "missing")})


def test_a_missing_attribute_names_what_the_module_defines(team: Team, tmp_path: Path) -> None:
    write_team_app(tmp_path, "application = object()\nhelper = 1\n", package="team_attr")
    with pytest.raises(AppImportError, match=r"'team_attr.main' has no attribute 'app'.*application, helper"):
        build(LayerSettings(AppTarget("team_attr.main", "app"), tmp_path))


def test_the_limit_is_set_on_every_event_loop(team: Team) -> None:
    """granian on 3.14t runs one loop per worker thread: each loop's lifespan gets the limit."""
    layer = team(STARLETTE, threads=5)
    seen: list[int] = []

    async def lifespan_then_request() -> None:
        messages = iter([{"type": "lifespan.startup"}])
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            try:
                return next(messages)
            except StopIteration:
                await anyio.sleep_forever()
                raise

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        with anyio.move_on_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(layer, {"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
                while not sent:
                    await anyio.sleep(0.01)
                seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
                group.cancel_scope.cancel()

    workers = [threading.Thread(target=anyio.run, args=(lifespan_then_request,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen == [5, 5, 5]


# --- what a server sees: importing gil_lab_layer.serve in a fresh interpreter --------------------

SERVE = """
import json
from starlette.testclient import TestClient
import gil_lab_layer.serve
with TestClient(gil_lab_layer.serve.app) as client:
    print(json.dumps({"hello": client.get("/hello").json(), "runtime": client.get("/lab/runtime").json()}))
"""


def serve(env: dict[str, str], code: str = SERVE, lab_on_path: bool = True) -> Any:
    return run_python(code, {**env, **({} if lab_on_path else {"PYTHONPATH": ""})})


def test_a_team_package_called_app_wins_over_the_labs(tmp_path: Path) -> None:
    """The server runs from the repository with it on PYTHONPATH, the worst case: the team's `app` is served."""
    write_team_app(tmp_path, STARLETTE)
    result = serve({"LAB_APP": "app.main:app", "LAB_APP_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["hello"]["team"] == "starlette"
    assert served["runtime"]["app"] == {"target": "app.main:app", "dir": str(tmp_path.resolve()),
                                        "framework": served["runtime"]["app"]["framework"]}


def test_a_team_app_imported_too_late_to_win_is_refused(tmp_path: Path) -> None:
    write_team_app(tmp_path, STARLETTE)
    code = "import app.settings\n" + SERVE  # the lab's `app` is already in sys.modules
    result = serve({"LAB_APP": "app.main:app", "LAB_APP_DIR": str(tmp_path)}, code)
    assert result.returncode != 0
    assert "a module named 'app' was already imported from" in result.stderr
    assert "Rename one of the two packages" in result.stderr


@pytest.mark.parametrize(
    ("main", "helpers", "expected"),
    [
        ("import settings_loader\n", {"settings_loader.py": "def load():\n    raise KeyError('DATABASE_URL')\n\nload()\n"},
         ["AppImportError: cannot import 'app.main'", "KeyError: 'DATABASE_URL'", "settings_loader.py",
          "Last lines of the traceback"]),
        ("import a_dependency_nobody_installed\n", {},
         ["No module named 'a_dependency_nobody_installed'", "install the app's requirements"]),
        (FASTAPI + "\n@app.get('/lab/health')\ndef health() -> dict:\n    return {}\n", {},
         ["ReservedPathError", "GET /lab/health (app.main.health)"]),
        ("def app(environ, start_response):\n    return [b'']\n", {},
         ["NotAnAsgiApp: LAB_APP=app.main:app: 'app' is a function app.main.app, which is a WSGI app"]),
    ],
    ids=["import-error", "missing-dependency", "reserved-prefix", "not-asgi"],
)
def test_an_app_that_cannot_be_served_stops_start_up(tmp_path: Path, main: str, helpers: dict[str, str],
                                                     expected: list[str]) -> None:
    """What a server shows: a non-zero exit and a message naming the cause and the fix."""
    write_team_app(tmp_path, main)
    for name, source in helpers.items():
        (tmp_path / name).write_text(source)
    result = serve({"LAB_APP": "app.main:app", "LAB_APP_DIR": str(tmp_path)})
    assert result.returncode != 0
    for fragment in expected:
        assert fragment in result.stderr


def test_a_bad_lab_threads_stops_start_up() -> None:
    result = serve({"LAB_THREADS": "lots"})
    assert result.returncode != 0
    assert "LAB_THREADS must be an integer" in result.stderr


def test_without_anyio_the_thread_limit_is_null(tmp_path: Path) -> None:
    """A raw ASGI app in an environment without anyio: nothing to limit, and /lab/runtime says so."""
    write_team_app(tmp_path, RAW)
    code = """
import asyncio, json, sys
sys.modules["anyio"] = None  # as if anyio were not installed
import gil_lab_layer.serve

async def get(path):
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await gil_lab_layer.serve.app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)
    return sent[-1]["body"].decode()

print(json.dumps({"runtime": json.loads(asyncio.run(get("/lab/runtime"))), "other": asyncio.run(get("/x"))}))
"""
    result = serve({"LAB_APP": "app.main:app", "LAB_APP_DIR": str(tmp_path)}, code, lab_on_path=False)
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["runtime"]["thread_limit"] is None
    assert served["other"] == "raw:/x"


def test_the_layer_records_gil_warnings_raised_by_the_app_import(tmp_path: Path) -> None:
    warn = f"import warnings\nwarnings.warn({gilwatch.MESSAGE + ' ' + repr('team_ext')!r}, RuntimeWarning)\n"
    write_team_app(tmp_path, warn + RAW)
    code = SERVE.replace('"hello": client.get("/hello").json(), ', "")
    result = serve({"LAB_APP": "app.main:app", "LAB_APP_DIR": str(tmp_path)}, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["runtime"]["gil_enabled_by"] == ["team_ext"]


def test_every_http_request_holds_a_slot_of_the_in_flight_table_while_the_app_runs(tmp_path: Path) -> None:
    """The table is what the lab reads after a crash or during a hang: a request is in it from call to return."""
    table = faults.InFlightTable(tmp_path)

    def busy() -> list[str]:
        data = table.path.read_bytes()
        slots = [data[i:i + faults.SLOT_BYTES] for i in range(faults.SLOT_BYTES, len(data), faults.SLOT_BYTES)]
        return [s[21:].decode().strip() for s in slots if s.startswith(faults.BUSY)]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(busy())})
            await send({"type": "websocket.close"})
            return
        body = json.dumps(busy()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    layer = LabLayer(app, ThreadLimit(2), "team.main:app", str(tmp_path), table)
    with TestClient(layer) as client:
        assert client.get("/books/12?x=1").json() == ["GET /books/12"]  # the path, never the query
        assert client.post("/orders").json() == ["POST /orders"]
        with client.websocket_connect("/ws") as websocket:
            assert json.loads(websocket.receive_text()) == []  # a long connection is not a hang
        assert client.get("/lab/runtime").status_code == 200
    assert busy() == []


def test_the_fault_files_start_only_when_the_lab_names_their_directory(tmp_path: Path) -> None:
    script = ("import json, os; from gil_lab_layer import faults; f = faults.install(); "
              "print(json.dumps(None if f is None else sorted(os.listdir(f.directory))))")
    assert json.loads(run_python(script).stdout) is None
    listed = json.loads(run_python(script, env={faults.FAULTS_DIR_ENV: str(tmp_path / "f")}).stdout)
    assert len(listed) == 2 and {Path(n).suffix for n in listed} == {".faults", ".inflight"}
