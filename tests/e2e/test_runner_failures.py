"""The runner's failure paths, for real: Ctrl-C mid-cell then --resume, and a server killed mid-cell."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil

from loadtests.measure.runner import CELL_DIR_ENV
from tests.conftest import load_run_json, run_lab, wait_for
from tests.e2e.processes import describe, measuring_server, only_run_dir, start_lab, started_by

SMOKE_ONE_REPEAT = ["run", "--preset", "smoke", "--repeats", "1", "--warmup", "1", "--duration", "5"]


def cells_done(run_dir: Path) -> int:
    try:
        return len(load_run_json(run_dir)["cells"])
    except (OSError, ValueError):
        return 0


def test_ctrl_c_keeps_finished_cells_tears_down_and_resume_completes(tmp_path: Path) -> None:
    lab = start_lab([*SMOKE_ONE_REPEAT, "--out", str(tmp_path)])
    try:
        run_dir = wait_for(lambda: only_run_dir(tmp_path), "the run directory")
        assert isinstance(run_dir, Path)
        wait_for(lambda: cells_done(run_dir) >= 1, "the first cell")
        wait_for(lambda: measuring_server(run_dir), "the second cell's measured window")
        os.killpg(lab.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
        _, stderr = lab.communicate(timeout=60)
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
    assert lab.returncode == 130, stderr
    assert f"gil-lab run --resume {run_dir}" in stderr
    leftovers = started_by(run_dir)
    assert not leftovers, describe(leftovers)
    interrupted = load_run_json(run_dir)
    assert interrupted["complete"] is False and len(interrupted["cells"]) == 1

    run_lab("run", "--resume", str(run_dir))
    resumed = load_run_json(run_dir)
    assert resumed["complete"] is True
    assert [c["id"] for c in resumed["cells"]][:1] == [interrupted["cells"][0]["id"]]
    assert len(resumed["cells"]) == 2 and all(c["valid"] for c in resumed["cells"])
    assert not started_by(run_dir)


def test_a_server_killed_mid_cell_invalidates_that_cell_and_the_run_goes_on(tmp_path: Path) -> None:
    lab = start_lab([*SMOKE_ONE_REPEAT, "--out", str(tmp_path)])
    try:
        run_dir = wait_for(lambda: only_run_dir(tmp_path), "the run directory")
        assert isinstance(run_dir, Path)
        server = wait_for(lambda: measuring_server(run_dir), "the first cell's measured window")
        assert isinstance(server, psutil.Process)
        killed_cell = Path(server.environ()[CELL_DIR_ENV]).name
        server.send_signal(signal.SIGKILL)
        stdout, stderr = lab.communicate(timeout=180)
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
    assert lab.returncode == 0, stderr
    run = load_run_json(run_dir)
    assert run["complete"] is True and len(run["cells"]) == 2
    first, second = run["cells"]
    assert Path(first["files"]["server_log"]).parent.name == killed_cell
    assert first["valid"] is False and first["outcome"] == "crashed", first
    assert "crashed" in first["invalid_reason"]
    assert second["valid"] is True, second["invalid_reason"]
    assert "INVALID" in stderr
    assert not started_by(run_dir)
