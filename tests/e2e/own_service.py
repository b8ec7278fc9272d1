"""A team's own service for the end-to-end tests: its package, requirements and Locust file, written to a temp dir.

The team's package is called ``app``, like the lab's own: wherever ``--app-dir`` points, the
team's must win. Its requirements come from local files (a wheel, an sdist), so the
environments build from uv's cache and these files, without a new download.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import textwrap
from pathlib import Path

import pytest

from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup
from tests.provision.packages import wheel

TRAP_SOURCE = PROJECT_ROOT / "scenarios" / "gil_trap_ext" / "gil_lab_trap.c"

#: A plain Starlette app: a sync CPU route, an async one that reports the team's own dependency.
STARLETTE = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

import {dependency} as dependency


def total(request):
    return JSONResponse({{"total": sum(i * i for i in range(int(request.query_params.get("n", "20000"))))}})


async def hello(request):
    return JSONResponse({{"team": "app", "dependency": dependency.__name__}})


app = Starlette(routes=[Route("/total", total), Route("/hello", hello)])
"""

#: Two user classes with their own weights and think times.
LOCUSTFILE = """
from locust import HttpUser, between, constant, task


class Counter(HttpUser):
    weight = 2
    wait_time = between(0.01, 0.02)

    @task
    def total(self):
        self.client.get("/total?n=20000", name="/total")


class Greeter(HttpUser):
    weight = 1
    wait_time = constant(0.01)

    @task
    def hello(self):
        self.client.get("/hello")
"""

#: setup.py of the lab's GIL trap as a team's dependency: a C extension without Py_mod_gil.
TRAP_SETUP = """
from setuptools import Extension, setup

setup(name="gil-lab-trap", version="0.1", ext_modules=[Extension("gil_lab_trap", ["gil_lab_trap.c"])])
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def team_service(root: Path, dependency: str, requirements: str, app: str = STARLETTE) -> Path:
    """``root/service`` with the package ``app``, requirements.txt and locustfile.py; returns that directory."""
    service = root / "service"
    write(service / "app" / "__init__.py", "")
    write(service / "app" / "main.py", app.format(dependency=dependency))
    write(service / "requirements.txt", requirements)
    write(service / "locustfile.py", LOCUSTFILE)
    return service


def local_wheel(root: Path) -> str:
    """A requirements text naming a pure wheel in a local directory (it installs on both interpreters)."""
    (root / "wheels").mkdir(parents=True, exist_ok=True)
    wheel(root / "wheels", "gil-lab-team-dep", "1.0", "py3-none-any")
    return f"--find-links {root / 'wheels'}\ngil-lab-team-dep\n"


def sdist(directory: Path, name: str, files: dict[str, str | bytes]) -> Path:
    """``<name>-0.1.tar.gz`` holding ``files`` under ``<name>-0.1/``, with its PKG-INFO."""
    base = f"{name.replace('-', '_')}-0.1"
    files = {**files, "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n"}
    path = directory / f"{base}.tar.gz"
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for arcname, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{base}/{arcname}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def trap_sdist(directory: Path) -> Path:
    """The lab's trap extension (scenarios/gil_trap_ext/gil_lab_trap.c) packaged as a team's dependency."""
    return sdist(directory, "gil-lab-trap", {"setup.py": textwrap.dedent(TRAP_SETUP),
                                             "gil_lab_trap.c": TRAP_SOURCE.read_bytes()})


@pytest.fixture
def private_envs(tmp_path: Path) -> Path:
    """An environments directory of the test's own: the team's environments go there, the lab's are linked in."""
    require_setup()
    envs = tmp_path / "envs"
    envs.mkdir()
    for name in ("app-gil", "app-ft", "interpreters.json"):
        os.symlink(PROJECT_ROOT / ".envs" / name, envs / name)
    return envs


def gil_lab(envs: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real `gil-lab`, with the test's environments directory."""
    return subprocess.run([str(GIL_LAB), *args], cwd=PROJECT_ROOT, env=lab_env(LAB_ENVS_DIR=str(envs)),
                          capture_output=True, text=True, timeout=timeout)


#: Short windows: the tests check behaviour, never speed. The per-endpoint probe, part of every run of a team's
#: service, has a test of its own (tests/e2e/test_diagnose.py), so these leave it out.
CHECKED = ("--preset", "smoke", "--warmup", "1", "--duration", "1.5", "--repeats", "2", "--no-probe")
#: ... and no response check after the windows, except where a test asks for it (CHECKED).
QUICK = (*CHECKED, "--no-safety")
