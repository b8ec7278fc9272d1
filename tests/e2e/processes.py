"""Find the processes a run started, through the LAB_CELL_DIR mark the runner puts in their environment."""

from __future__ import annotations

from pathlib import Path

import psutil

from loadtests.measure.runner import CELL_DIR_ENV


def started_by(run_dir: Path) -> list[psutil.Process]:
    """Live (non-zombie) processes whose LAB_CELL_DIR lies inside ``run_dir``."""
    prefix = str(run_dir)
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(CELL_DIR_ENV, "").startswith(prefix):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(processes: list[psutil.Process]) -> str:
    lines = []
    for process in processes:
        try:
            lines.append(f"{process.pid}: {' '.join(process.cmdline())}")
        except psutil.Error:
            lines.append(f"{process.pid}: (gone)")
    return "\n".join(lines)
