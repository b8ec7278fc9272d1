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
    (["run", "--preset", "smoke", "--expect-workers", "1", "--locust-master-bind", "10.1.2.3"],
     "would expose Locust's master port 10.1.2.3:<a free port>, which has no authentication"),
    (["run", "--preset", "smoke", "--locust-master-bind", "127.0.0.1"], "add --expect-workers N"),
    (["run", "--preset", "smoke", "--expect-workers", "1", "--locust-master-bind", "0.0.0.0", "--expose-master"],
     "names no single address the workers can reach"),
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


def test_a_worker_without_the_token_says_where_it_comes_from() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAB_LOCUST_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "loadtests", "worker", "--master", "127.0.0.1:1"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and "LAB_LOCUST_TOKEN is not set" in result.stderr, result.stderr


def test_a_worker_gives_up_when_no_master_comes() -> None:
    result = gil_lab("worker", "--master", "127.0.0.1:1", "--master-timeout", "2",
                     env={"LAB_LOCUST_TOKEN": "t"})
    assert result.returncode == 0 and "no master at 127.0.0.1:1 for 2s: stopping after 0 session(s)" in result.stderr


def test_lab_thread_limits_is_read_and_checked_like_the_flag(tmp_path: Path) -> None:
    result = gil_lab("capacity", "--out", str(tmp_path), env={"LAB_THREAD_LIMITS": "1,two"})
    assert result.returncode == 1, result.stderr
    assert "--threads takes comma-separated anyio thread limits (integers), not '1,two'" in result.stderr


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
