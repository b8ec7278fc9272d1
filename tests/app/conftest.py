"""Fixtures for the app's tests. They run inside each app environment (3.14 and 3.14t):

    .envs/app-gil/bin/python -m pytest tests/app -p no:cacheprovider
    .envs/app-ft/bin/python -m pytest tests/app -p no:cacheprovider

The app is always served through the lab's layer (``gil_lab_layer``, installed in the
environment by ``make setup`` from ``app/layer/``), as the lab's servers serve it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the app's tests run inside an app environment (.envs/app-*)")

from fastapi.testclient import TestClient  # noqa: E402
from gil_lab_layer.settings import DEFAULT_THREADS  # noqa: E402
from gil_lab_layer.threads import ThreadLimit  # noqa: E402
from gil_lab_layer.wrapper import LabLayer  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The build flag, not the runtime state: a 3.14t build whose GIL got re-enabled is still this.
FREE_THREADED_BUILD = sysconfig.get_config_var("Py_GIL_DISABLED") == 1

MakeClient = Callable[..., TestClient]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without PYTHON_GIL or LAB_* (a GIL build dies on PYTHON_GIL=0), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL" and not k.startswith("LAB_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra or {})
    return env


def run_python(
    code: str, env: dict[str, str] | None = None, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this environment (with ``flags``), from the project root."""
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=PROJECT_ROOT,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def layered(settings: Settings | None = None, threads: int = DEFAULT_THREADS) -> LabLayer:
    """The built-in app inside the layer, as ``gil_lab_layer.serve`` builds it."""
    return LabLayer(create_app(settings or Settings()), ThreadLimit(threads), "app.main:app", str(PROJECT_ROOT))


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Build TestClients (lifespan run) for layered apps with given settings; closes them afterwards."""
    clients: list[TestClient] = []

    def make(settings: Settings | None = None, threads: int = DEFAULT_THREADS) -> TestClient:
        client = TestClient(layered(settings, threads), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One layered app with default settings; a server exception is answered as a 500, as a server would."""
    with TestClient(layered(), raise_server_exceptions=False) as test_client:
        yield test_client


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    """A small encoded gradient image."""
    from PIL import Image

    image = Image.radial_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()
