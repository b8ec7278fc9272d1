"""Bad flags, unknown presets and scenarios, and a missing set-up: clear errors before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def gil_lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI from this (control-plane) interpreter, so it runs even before `make setup`."""
    return subprocess.run([sys.executable, "-m", "loadtests", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--preset", "nope"], "unknown preset 'nope'; available:"),
    (["run", "--preset", "smoke", "--scenario", "nope"], "unknown scenario 'nope'; available:"),
    (["run", "--preset", "smoke", "--servers", "gunicorn"], "unknown server 'gunicorn'"),
    (["run", "--preset", "smoke", "--users", "two"], "--users takes comma-separated integers"),
    (["run", "--preset", "smoke", "--users", "0"], "--users must be at least 1"),
    (["capacity", "--threads", "two"], "--threads takes comma-separated anyio thread limits (integers), not 'two'"),
    (["capacity", "--threads", "1,2.5"], "--threads takes comma-separated anyio thread limits (integers)"),
    (["capacity", "--threads", "4,0"], "--threads must be at least 1, not 0"),
    (["run", "--preset", "smoke", "--threads=-2"], "--threads must be at least 1, not -2"),
])
def test_bad_run_options_fail_with_a_reason(args: list[str], message: str, tmp_path: Path) -> None:
    result = gil_lab(*args, "--out", str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written


def test_lab_threads_is_read_and_checked_like_the_flag(tmp_path: Path) -> None:
    result = gil_lab("capacity", "--out", str(tmp_path), env={"LAB_THREADS": "1,two"})
    assert result.returncode == 1, result.stderr
    assert "--threads takes comma-separated anyio thread limits (integers), not '1,two'" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["run", "--repeats", "0"], ["run", "--duration", "-1"], ["run", "--bogus"],
                                  ["serve", "--interpreter", "pypy"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = gil_lab(*args)
    assert result.returncode == 2
    assert "Error" in result.stderr


def test_missing_setup_says_what_to_run(tmp_path: Path) -> None:
    result = gil_lab("run", "--preset", "smoke", "--out", str(tmp_path), env={"LAB_ENVS_DIR": str(tmp_path / "envs")})
    assert result.returncode == 1
    assert "make setup" in result.stderr
