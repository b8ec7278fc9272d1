"""Drop-in route modules: found in app/routes and LAB_ROUTES_DIR, served, and refused loudly when broken."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from app.discovery import discover
from app.errors import RouteDiscoveryError, SettingsError
from app.main import create_app
from app.settings import Settings

from .conftest import MakeClient, run_python

GOOD = """
from fastapi import APIRouter
from app.loadspec import LoadRequest

router = APIRouter(prefix="/{name}")


@router.get("/square")
def square(x: int = 3) -> dict[str, int]:
    return {{"square": x * x}}


LOAD = [LoadRequest(path="/{name}/square", query={{"x": 7}}, weight=2)]
"""


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def good(directory: Path, name: str = "squares") -> Path:
    return write(directory, name, GOOD.format(name=name))


def test_builtin_orders_example_is_discovered() -> None:
    (orders,) = [drop_in for drop_in in discover() if drop_in.name == "orders"]
    assert orders.module == "app.routes.orders"
    assert orders.file.endswith("app/routes/orders.py")
    assert orders.loads


def test_a_good_module_is_served_listed_and_documented(tmp_path: Path, make_client: MakeClient) -> None:
    good(tmp_path)
    client = make_client(Settings(routes_dirs=(tmp_path,)))
    assert client.get("/squares/square", params={"x": 7}).json() == {"square": 49}
    loads = [spec for spec in client.get("/lab/loads").json() if spec["module"] == "squares"]
    assert loads == [
        {
            "module": "squares",
            "name": "GET /squares/square",
            "method": "GET",
            "path": "/squares/square",
            "query": {"x": 7},
            "headers": {},
            "json": None,
            "body": None,
            "body_base64": None,
            "content_type": None,
            "weight": 2,
            "expect": 200,
        }
    ]
    assert "/squares/square" in client.get("/openapi.json").json()["paths"]


def test_lab_loads_lists_the_builtin_example_under_its_short_name(make_client: MakeClient) -> None:
    modules = {spec["module"] for spec in make_client().get("/lab/loads").json()}
    assert modules == {"orders"}


def test_several_directories_and_private_helpers(tmp_path: Path, make_client: MakeClient) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    good(first, "alpha")
    write(second, "_shared", "FACTOR = 10\n")
    write(
        second,
        "beta",
        """
        from fastapi import APIRouter
        from _shared import FACTOR

        router = APIRouter()


        @router.get("/beta")
        def beta() -> int:
            return FACTOR
        """,
    )
    settings = Settings.from_env({"LAB_ROUTES_DIR": os.pathsep.join([str(first), str(second)])})
    client = make_client(settings)
    assert client.get("/alpha/square").json() == {"square": 9}
    assert client.get("/beta").json() == 10
    names = [drop_in.name for drop_in in discover(settings.routes_dirs)]
    assert "_shared" not in names and {"alpha", "beta"} <= set(names)


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        ("raise RuntimeError('database unreachable')\n", "RuntimeError: database unreachable"),
        ("import a_module_that_does_not_exist\n", "ModuleNotFoundError"),
        ("def broken(:\n", "SyntaxError"),
        ("VALUE = 1\n", "must export an APIRouter named 'router' (found nothing)"),
        ("router = object()\n", "found object"),
        (
            "from fastapi import APIRouter\nrouter = APIRouter()\nLOAD = [{'path': '/x'}]\n",
            "LOAD must be a list of app.loadspec.LoadRequest",
        ),
        (
            "from fastapi import APIRouter\nfrom app.loadspec import LoadRequest\n"
            "router = APIRouter()\nLOAD = [LoadRequest(path='/nowhere')]\n",
            "matches no route",
        ),
        (
            "from fastapi import APIRouter\nfrom app.loadspec import LoadRequest\n"
            "router = APIRouter()\nLOAD = [LoadRequest(path='/x', weight=0)]\n",
            "weight must be an integer",
        ),
    ],
    ids=["raises", "missing-import", "syntax-error", "no-router", "not-a-router", "bad-load", "load-unserved", "bad-spec"],
)
def test_a_broken_module_stops_start_up_naming_the_file(tmp_path: Path, source: str, cause: str) -> None:
    path = write(tmp_path, "broken", source)
    with pytest.raises(RouteDiscoveryError) as caught:
        create_app(Settings(routes_dirs=(tmp_path,)))
    assert str(path) in str(caught.value)
    assert cause in str(caught.value)


def test_a_route_already_served_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shadow",
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get('/compute/pure')\ndef pure() -> int:\n    return 0\n",
    )
    with pytest.raises(RouteDiscoveryError, match=r"shadow\.py: GET /compute/pure is already served by app\.builtin"):
        create_app(Settings(routes_dirs=(tmp_path,)))


def test_two_modules_with_one_short_name_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "orders",
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get('/other-orders')\ndef other() -> int:\n    return 0\n",
    )
    with pytest.raises(RouteDiscoveryError, match="also named 'orders'") as caught:
        create_app(Settings(routes_dirs=(tmp_path,)))
    assert str(path) in str(caught.value)


def test_a_missing_routes_dir_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not a directory"):
        Settings.from_env({"LAB_ROUTES_DIR": str(tmp_path / "nope")})


def test_the_server_process_exits_with_the_file_and_cause(tmp_path: Path) -> None:
    """What a user sees: importing app.main (as any server does) fails with the file named."""
    path = write(tmp_path, "exploding", "raise ValueError('bad config in drop-in')\n")
    result = run_python("import app.main", {"LAB_ROUTES_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "RouteDiscoveryError" in result.stderr
    assert str(path) in result.stderr
    assert "ValueError: bad config in drop-in" in result.stderr
