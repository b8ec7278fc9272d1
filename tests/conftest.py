"""Fixtures shared by every part of the lab's suite: the real set-up and one real smoke run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GIL_LAB = PROJECT_ROOT / ".venv" / "bin" / "gil-lab"


def require_setup() -> None:
    """End-to-end tests need the real lab; `make test` runs `make setup` first, so this fails, not skips."""
    missing = [p for p in (GIL_LAB, PROJECT_ROOT / ".envs" / "app-gil" / "bin" / "python",
                           PROJECT_ROOT / ".envs" / "app-ft" / "bin" / "python",
                           PROJECT_ROOT / ".envs" / "interpreters.json") if not p.exists()]
    if missing:
        pytest.fail(f"the lab is not set up ({', '.join(map(str, missing))} missing); run `make setup`")


def lab_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PRESET", "SCENARIO")}
    return {**env, **extra}


def wait_for(condition: Callable[[], object], what: str, timeout: float = 120, interval: float = 0.2) -> object:
    """Poll ``condition`` until it returns something true, and return that; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def run_lab(*args: str, timeout: float = 600, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `gil-lab` console command, as a user would (``env``: variables exported on top)."""
    require_setup()
    result = subprocess.run([str(GIL_LAB), *args], cwd=PROJECT_ROOT, env=lab_env(**(env or {})), capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"gil-lab {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def run_dir_from(result: subprocess.CompletedProcess[str]) -> Path:
    """`gil-lab run` prints the run directory as its last line of stdout."""
    return Path(result.stdout.strip().splitlines()[-1])


def load_run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


@pytest.fixture(scope="session")
def smoke_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the smoke preset (real uvicorn, real Locust, both interpreters), shared by the suite."""
    out = tmp_path_factory.mktemp("smoke-runs")
    return run_dir_from(run_lab("run", "--preset", "smoke", "--out", str(out)))


#: Whole directories of real processes: servers, Locust, docker linters, packaging.
SLOW_DIRECTORIES = ("e2e", "integration", "docker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under :data:`SLOW_DIRECTORIES` slow, so ``-m "not slow"`` is the quick part."""
    tests_dir = Path(__file__).resolve().parent
    slow = [tests_dir / name for name in SLOW_DIRECTORIES]
    for item in items:
        if any(item.path.is_relative_to(d) for d in slow):
            item.add_marker(pytest.mark.slow)
