"""Run directories and ``run.json``: versioned, atomic, never overwritten.

A run directory is ``results/<run-id>/``. ``run.json`` (schema in docs/run-json.md)
is rewritten atomically (temp file, fsync, rename) after every cell, so an
interrupted run keeps every finished cell and ``--resume`` can complete it.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import socket
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from loadtests.core.errors import LabError, ResultsError
from loadtests.core.paths import PROJECT_ROOT

SCHEMA_VERSION = 1
RUN_FILE = "run.json"


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_dir(parent: Path, preset: str) -> Path:
    """A fresh directory; an existing one is never reused."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for _ in range(100):
        path = parent / f"{stamp}-{preset}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ResultsError(f"could not create a new run directory under {parent}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def git_state() -> tuple[str | None, bool]:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return sha, bool(status)


def machine_metadata() -> dict:
    sha, dirty = git_state()
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        memory_gb = None
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": affinity,
        "usable_cores": usable_cores(),
        "os": platform.platform(),
        "hostname": socket.gethostname(),
        "memory_gb": memory_gb,
        "git_sha": sha,
        "git_dirty": dirty,
    }


def write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path, error: type[LabError], if_missing: str) -> dict:
    """A JSON file the lab depends on; a missing or corrupt one raises ``error`` saying what to do."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise error(f"{path} does not exist; {if_missing}") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not valid JSON: {exc}") from exc


def load_run(run_dir: Path) -> dict:
    path = Path(run_dir) / RUN_FILE
    data = read_json(path, ResultsError, "pass a run directory such as results/<run-id>.")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{path} has schema_version {version!r}; this lab reads version {SCHEMA_VERSION}.")
    return data


def cell_dir_name(cell_id: str) -> str:
    """A filesystem-safe, readable directory name for a cell id."""
    return cell_id.replace("/", "_").replace(".", "")
