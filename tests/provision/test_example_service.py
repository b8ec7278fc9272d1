"""The example service (examples/bookshop): on its own, in both own-service environments, and under load.

Slow: each test installs packages (real uv, real PyPI) or runs real servers and Locust.
"""

from __future__ import annotations

import csv
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT, control_venv
from loadtests.measure.servers import ServerSettings, free_port, running_server, stop_group
from loadtests.provision import envs
from loadtests.provision.app_envs import AppEnvs, sync_app_envs
from loadtests.provision.interpreters import Interpreter, clean_env

pytestmark = pytest.mark.slow

EXAMPLE = PROJECT_ROOT / "examples" / "bookshop"
TARGET = "bookshop.main:app"
CART = {"lines": [{"book_id": 5, "quantity": 2}, {"book_id": 900, "quantity": 1}], "coupon": "READMORE"}


def get(url: str, body: dict | None = None) -> object:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        data = response.read()
    return json.loads(data) if response.headers.get_content_type() == "application/json" else data.decode()


@pytest.fixture(scope="module")
def bookshop_envs(tmp_path_factory: pytest.TempPathFactory, interpreters: dict[str, Interpreter]) -> AppEnvs:
    where = tmp_path_factory.mktemp("envs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_ENVS_DIR", str(where))
        return sync_app_envs(EXAMPLE / "requirements.txt", interpreters)


def test_the_example_runs_on_its_own_with_only_its_requirements(tmp_path: Path,
                                                                  interpreters: dict[str, Interpreter]) -> None:
    """`uvicorn bookshop.main:app` from its directory, in a venv holding nothing but requirements.txt."""
    uv = envs.installer()
    assert uv, "uv is part of the control plane: run `make setup`"
    venv = tmp_path / "venv"
    subprocess.run([*uv, "venv", "--quiet", "--python", interpreters["gil"].path, str(venv)], check=True)
    subprocess.run([*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r",
                    str(EXAMPLE / "requirements.txt")], check=True, env=clean_env())
    port = free_port()
    process = subprocess.Popen([str(venv / "bin" / "python"), "-m", "uvicorn", TARGET, "--port", str(port)],
                               cwd=EXAMPLE, env=clean_env(), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                assert get(url + "/health") == {"status": "ok"}
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"uvicorn exited with {process.returncode}")
                time.sleep(0.1)
        hits = get(url + "/search?q=silent%20river&limit=3")
        assert isinstance(hits, list) and len(hits) == 3 and "Silent River" in hits[0]["title"]
        assert get(url + "/cart/quote", CART)["items"] == 3  # type: ignore[index]
    finally:
        stop_group(process)


def test_both_environments_are_built_and_resolve_alike(bookshop_envs: AppEnvs) -> None:
    assert bookshop_envs.gil.available and bookshop_envs.ft.available
    for env in (bookshop_envs.gil, bookshop_envs.ft):
        assert {"rapidfuzz", "pyyaml", "fastapi", "uvicorn", "granian"} <= set(env.packages)
    assert bookshop_envs.differences == ()


@pytest.mark.parametrize("flavour", ["gil", "ft"])
def test_the_inspection_finds_the_async_cpu_route(bookshop_envs: AppEnvs, flavour: str) -> None:
    python = getattr(bookshop_envs, flavour).python
    result = subprocess.run([str(python), "-m", "gil_lab_layer.inspect", TARGET, "--app-dir", str(EXAMPLE)],
                            capture_output=True, text=True, env=clean_env(), cwd=EXAMPLE, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    routes = {route["path"]: route for route in report["routes"]}
    assert routes["/cart/quote"]["async"] is True and routes["/cart/quote"]["body_model"] == "Cart"
    for path in ("/search", "/books/{book_id}/similar", "/catalogue/export"):
        assert routes[path]["async"] is False and routes[path]["body_parsed_on_event_loop"] is False
    # rapidfuzz and PyYAML's C extensions declare free-threading support: the GIL stays off on 3.14t.
    assert report["python"]["gil_enabled"] is (flavour == "gil") and report["python"]["gil_enabled_by"] == []


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_the_example_is_served_through_the_layer_and_takes_its_own_load(bookshop_envs: AppEnvs, server: str,
                                                                         tmp_path: Path) -> None:
    settings = ServerSettings(server=server, python=bookshop_envs.ft.python, app=TARGET, app_dir=str(EXAMPLE),
                              threads=4)
    with running_server(settings, tmp_path / "server.log") as running:
        runtime = running.runtime
        assert runtime is not None and runtime.free_threaded is True and runtime.gil_enabled is False
        assert runtime.app is not None and runtime.app.target == TARGET and runtime.packages["rapidfuzz"]
        assert str(get(running.base_url + "/catalogue/export?count=1")).startswith("- id: 1\n")
        locust = subprocess.run(
            [str(control_venv() / "bin" / "locust"), "-f", str(EXAMPLE / "locustfile.py"), "--headless", "-u", "4",
             "-r", "4", "-t", "4s", "--host", running.base_url, "--csv", str(tmp_path / "load"), "--only-summary"],
            capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=120,
        )
        assert locust.returncode == 0, locust.stderr[-2000:]
        assert running.exit_code() is None
    with (tmp_path / "load_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    assert int(rows["Aggregated"]["Request Count"]) > 0 and rows["Aggregated"]["Failure Count"] == "0"
    assert {"/search", "/books/[id]/similar", "/cart/quote"} <= set(rows)
