"""``python -m gil_lab_layer.inspect``: one JSON object about an app, for the lab's preflight and diagnosis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import PROJECT_ROOT, clean_env
from .team_apps import FASTAPI, RAW, STARLETTE, write_team_app


def inspect(target: str, *args: str, cwd: Path = PROJECT_ROOT) -> tuple[int, dict[str, Any], str]:
    """Run the inspection in a fresh interpreter of this environment: exit status, its JSON, stderr."""
    result = subprocess.run([sys.executable, "-m", "gil_lab_layer.inspect", target, *args], cwd=cwd,
                            env=clean_env(), capture_output=True, text=True, timeout=120)
    return result.returncode, (json.loads(result.stdout) if result.stdout.strip() else {}), result.stderr


def by_path(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {route["path"]: route for route in report["routes"]}


def test_the_built_in_app_is_described_route_by_route() -> None:
    status, report, _ = inspect("app.main:app")
    assert status == 0 and report["servable"] is True
    assert report["imports"] and report["asgi"] and report["import_error"] is None
    assert report["framework"]["name"] == "fastapi"
    assert report["reserved_prefix"] == "/lab/" and report["reserved_conflicts"] == []
    routes = by_path(report)
    assert routes["/compute/pure-async"]["async"] is True  # the deliberate event-loop blocker
    assert routes["/compute/pure"]["async"] is False
    assert routes["/compute/pure"]["endpoint"] == "app.builtin.compute_routes.compute_pure"
    assert routes["/compute/pure"]["methods"] == ["GET"]
    assert routes["/orders/quote"]["body_parsed_on_event_loop"] is True  # a pydantic body model
    assert routes["/orders/quote"]["body_model"] == "Basket"
    assert routes["/json/parse"]["body_parsed_on_event_loop"] is False  # raw bytes, parsed in the thread
    assert report["python"]["free_threaded"] is (report["python"]["gil_enabled"] is False)


def test_a_team_starlette_app_with_mounts_and_a_websocket(tmp_path: Path) -> None:
    write_team_app(tmp_path, STARLETTE)
    status, report, _ = inspect("app.main:app", "--app-dir", str(tmp_path))  # a package called app wins
    assert status == 0 and report["app_dir"] == str(tmp_path.resolve())
    assert report["framework"]["name"] == "starlette"
    routes = by_path(report)
    assert routes["/hello"] == {
        "path": "/hello", "kind": "http", "methods": ["GET", "HEAD"], "endpoint": "app.main.hello", "async": True,
        "body_parsed_on_event_loop": False, "body_model": None,
    }
    assert routes["/total"]["async"] is False  # Starlette runs sync endpoints in the thread pool
    assert routes["/api/items"]["methods"] == ["GET", "POST"] and routes["/api/items"]["async"] is True
    assert routes["/ws"]["kind"] == "websocket"


def test_a_fastapi_team_app_shows_its_body_model_and_async_cpu_route(tmp_path: Path) -> None:
    write_team_app(tmp_path, FASTAPI, package="svc")
    _, report, _ = inspect("svc.main:app", "--app-dir", str(tmp_path))
    routes = by_path(report)
    assert routes["/orders"]["body_model"] == "Order" and routes["/orders"]["async"] is False
    assert routes["/spin"]["async"] is True and routes["/spin"]["body_parsed_on_event_loop"] is False


def test_a_raw_asgi_app_has_no_route_table(tmp_path: Path) -> None:
    write_team_app(tmp_path, RAW)
    status, report, _ = inspect("app.main:app", "--app-dir", str(tmp_path))
    assert status == 0 and report["asgi"] is True
    assert report["routes"] is None and report["framework"] is None


def test_an_import_error_is_reported_not_raised(tmp_path: Path) -> None:
    write_team_app(tmp_path, "import json\njson.loads('{broken')\n")
    status, report, _ = inspect("app.main:app", "--app-dir", str(tmp_path))
    assert status == 1 and report["imports"] is False and report["servable"] is False
    assert "JSONDecodeError" in report["import_error"] and "main.py" in report["import_error"]


def test_a_non_asgi_object_and_a_reserved_route_are_reported(tmp_path: Path) -> None:
    write_team_app(tmp_path, "def app(environ, start_response):\n    return []\n", package="wsgi")
    status, report, _ = inspect("wsgi.main:app", "--app-dir", str(tmp_path))
    assert status == 1 and report["asgi"] is False and "WSGI" in report["asgi_error"]
    write_team_app(tmp_path, FASTAPI + "\n@app.get('/lab/health')\ndef health() -> dict:\n    return {}\n",
                   package="clash")
    status, report, _ = inspect("clash.main:app", "--app-dir", str(tmp_path))
    assert status == 1 and report["asgi"] is True
    assert [route["path"] for route in report["reserved_conflicts"]] == ["/lab/health"]


def test_what_the_app_prints_while_importing_does_not_spoil_the_json(tmp_path: Path) -> None:
    noisy = "import os, sys\nprint('hello from the app')\nos.write(1, b'raw fd write\\n')\n" + RAW
    write_team_app(tmp_path, noisy)
    status, report, stderr = inspect("app.main:app", "--app-dir", str(tmp_path))
    assert status == 0 and report["asgi"] is True
    assert "hello from the app" in stderr and "raw fd write" in stderr


def test_bad_arguments_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "gil_lab_layer.inspect", "not-a-target"], cwd=PROJECT_ROOT,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "MODULE:ATTR" in result.stderr
