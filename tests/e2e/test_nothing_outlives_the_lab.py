"""SIGKILL the lab mid-cell, for real: within 10 seconds nothing it started is left running.

The lab gets no chance to clean up (no signal handler, no `finally`), so what stops its
servers and Locust processes, grandchildren included, is their supervisors seeing the
lab's pipe close. Three shapes of cell: one threaded server process, a uvicorn master
with two worker processes, and a Locust master with two Locust workers.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from loadtests.core.machine import usable_cores
from tests.conftest import wait_for
from tests.e2e.processes import describe, measuring_server, only_run_dir, start_lab, started_by

pytestmark = pytest.mark.slow

BOUND_S = 10.0  # no process of the lab's may outlive it by more than this
ONE_SHORT_REPEAT = ["--repeats", "1", "--warmup", "1", "--duration", "5"]


def cmdlines(processes: list[psutil.Process]) -> list[str]:
    lines = []
    for process in processes:
        try:
            lines.append(" ".join(process.cmdline()))
        except psutil.Error:
            continue
    return lines


def threaded_window(run_dir: Path) -> bool:
    return measuring_server(run_dir) is not None


def processes_window(run_dir: Path) -> bool:
    """The N-process server is up: a uvicorn master with both worker processes, beside Locust."""
    if measuring_server(run_dir) is None:
        return False
    for process in started_by(run_dir):
        try:
            if "--workers 2" in " ".join(process.cmdline()) and len(process.children()) >= 2:
                return True
        except psutil.Error:
            continue
    return False


def locust_workers_window(run_dir: Path) -> bool:
    """A Locust master and its two workers are running against the server."""
    lines = cmdlines(started_by(run_dir))
    return (measuring_server(run_dir) is not None and any("--master " in line for line in lines)
            and sum("--worker " in line for line in lines) >= 2)


CASES: dict[str, tuple[list[str], Callable[[Path], bool]]] = {
    "threaded cell": (["--preset", "smoke"], threaded_window),
    # default's N-process group for json on uvicorn: parallelism = "processes", workers = "cores" (2 here).
    "N-process cell": (["--preset", "default", "--scenario", "json", "--servers", "uvicorn", "--users", "4",
                        "--no-threads-bench"], processes_window),
    "Locust workers": (["--preset", "smoke", "--locust-workers", "2"], locust_workers_window),
}


def seconds_until_none_left(run_dir: Path, since: float, bound: float) -> tuple[float, list[psutil.Process]]:
    """How long after ``since`` the last marked process was gone, or the leftovers once ``bound`` has passed."""
    while True:
        left = started_by(run_dir)
        elapsed = time.monotonic() - since
        if not left or elapsed > bound:
            return elapsed, left
        time.sleep(0.05)


@pytest.mark.parametrize("case", list(CASES))
def test_sigkill_of_the_lab_leaves_nothing_running(case: str, tmp_path: Path,
                                                   record_property: Callable[[str, object], None]) -> None:
    args, in_window = CASES[case]
    if case == "N-process cell" and usable_cores() < 2:
        pytest.skip("the N-process cell has one worker on a single usable core")
    lab = start_lab(["run", *args, *ONE_SHORT_REPEAT, "--out", str(tmp_path)])
    run_dir: Path | None = None
    try:
        found = wait_for(lambda: only_run_dir(tmp_path), "the run directory")
        assert isinstance(found, Path)
        run_dir = found
        wait_for(lambda: in_window(found), f"the {case}'s measured window", timeout=300)
        before = started_by(run_dir)
        os.kill(lab.pid, signal.SIGKILL)  # the lab's own process only: its children are left to fend for themselves
        killed_at = time.monotonic()
        lab.wait(timeout=30)
        elapsed, left = seconds_until_none_left(run_dir, killed_at, BOUND_S)
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
        for process in started_by(run_dir) if run_dir else []:  # a failed test must not leak either
            process.kill()
    record_property("seconds_to_last_gone", round(elapsed, 2))
    print(f"\n{case}: {len(before)} processes, the last gone {elapsed:.2f}s after the lab's SIGKILL")
    assert len(before) >= 2, describe(before)  # a supervisor and its command at least
    assert not left, f"still running {BOUND_S:.0f}s after the lab was killed:\n{describe(left)}"
