"""The runner's failure paths, for real: Ctrl-C mid-comparison then --resume, and a server killed mid-comparison."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil

from loadtests.measure.server_pool import CELL_DIR_ENV
from tests.conftest import load_run_json, run_lab, wait_for
from tests.e2e.processes import describe, only_run_dir, start_lab, started_by

SMOKE_ONE_PAIR = ["run", "--preset", "smoke", "--repeats", "1", "--warmup", "1", "--duration", "4"]


def cells_done(run_dir: Path) -> int:
    try:
        return len(load_run_json(run_dir)["cells"])
    except (OSError, ValueError):
        return 0


def server_of(run_dir: Path, env_name: str) -> psutil.Process | None:
    """The running server of ``run_dir`` in the app environment ``env_name`` (app-gil or app-ft)."""
    servers = [p for p in started_by(run_dir) if "uvicorn" in " ".join(p.cmdline())
               and f"/{env_name}/" in " ".join(p.cmdline())]
    return servers[0] if servers else None


def test_ctrl_c_keeps_finished_windows_tears_down_and_resume_completes_the_comparison(tmp_path: Path) -> None:
    lab = start_lab([*SMOKE_ONE_PAIR, "--out", str(tmp_path)])
    try:
        run_dir = wait_for(lambda: only_run_dir(tmp_path), "the run directory")
        assert isinstance(run_dir, Path)
        wait_for(lambda: cells_done(run_dir) >= 1, "the first window")
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
    counted = [c for c in interrupted["cells"] if not c["superseded"]]  # noisy windows measured again aside
    assert interrupted["complete"] is False and len(interrupted["cells"]) >= 1 and len(counted) < 2
    assert interrupted["comparisons"] == []  # the comparison did not finish

    run_lab("run", "--resume", str(run_dir))
    resumed = load_run_json(run_dir)
    assert resumed["complete"] is True
    kept = [c["id"] for c in interrupted["cells"]]
    assert [c["id"] for c in resumed["cells"]][: len(kept)] == kept  # finished windows are kept as they were
    # the partial block stays on record; the resumed run measures one whole block after it
    last_block = [c for c in resumed["cells"] if c["block"] == max(c["block"] for c in resumed["cells"])
                  and not c["superseded"]]
    assert len(last_block) == 2 and all(c["valid"] for c in last_block)
    assert resumed["comparisons"][0]["stopping"] == "fixed pairs"
    assert not started_by(run_dir)


def test_a_server_killed_mid_comparison_invalidates_its_window_and_the_run_goes_on(tmp_path: Path) -> None:
    lab = start_lab([*SMOKE_ONE_PAIR, "--out", str(tmp_path)])
    try:
        run_dir = wait_for(lambda: only_run_dir(tmp_path), "the run directory")
        assert isinstance(run_dir, Path)
        wait_for(lambda: cells_done(run_dir) >= 1, "the first window (3.14)")
        server = server_of(run_dir, "app-ft")  # the next window is 3.14t's: A B
        assert isinstance(server, psutil.Process)
        killed_dir = Path(server.environ()[CELL_DIR_ENV]).name
        server.send_signal(signal.SIGKILL)
        stdout, stderr = lab.communicate(timeout=180)
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
    assert lab.returncode == 0, stderr
    run = load_run_json(run_dir)
    assert run["complete"] is True
    first, second = [c for c in run["cells"] if not c["superseded"]][:2]
    assert first["valid"] is True, first["invalid_reason"]
    assert Path(second["files"]["server_log"]).parent.name == killed_dir
    assert second["valid"] is False and second["outcome"] in ("crashed", "server-error"), second
    assert run["comparisons"][0]["stopping"] == "server failed"
    assert "INVALID" in stderr
    assert not started_by(run_dir)
