"""Start the lab as a user would, and find the processes a run started through the LAB_CELL_DIR mark in their environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psutil

from loadtests.measure.server_pool import CELL_DIR_ENV
from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup


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


def start_lab(args: list[str]) -> subprocess.Popen[str]:
    """`gil-lab` in its own process group, as a terminal would run it in the foreground."""
    require_setup()
    return subprocess.Popen([str(GIL_LAB), *args], cwd=PROJECT_ROOT, env=lab_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def only_run_dir(parent: Path) -> Path | None:
    dirs = [d for d in parent.iterdir() if d.is_dir()] if parent.exists() else []
    return dirs[0] if len(dirs) == 1 and (dirs[0] / "run.json").is_file() else None


def measuring_server(run_dir: Path) -> psutil.Process | None:
    """A server of ``run_dir`` whose Locust is already running: the cell is in its window."""
    processes = started_by(run_dir)
    servers = [p for p in processes if "uvicorn" in " ".join(p.cmdline())]
    clients = [p for p in processes if "locust" in " ".join(p.cmdline())]
    return servers[0] if servers and clients else None
