"""Run directories and ``run.json``: versioned, atomic, never overwritten.

A run directory is ``results/<run-id>/``. ``run.json`` (its contract is
docs/run-json.md) is rewritten atomically after every cell, so an interrupted run
keeps every finished cell and ``--resume`` can complete it. :func:`load_run` is the
one reader: it migrates older files (``migrations.py``) and returns a typed
:class:`~loadtests.results.records.RunRecord`.
"""

from __future__ import annotations

import os
import platform
import secrets
from pathlib import Path
from typing import Any

from loadtests.core import machine
from loadtests.core.clock import utc_stamp
from loadtests.core.errors import ResultsError
from loadtests.core.jsonfile import read_json, write_json_atomic
from loadtests.results.migrations import migrate
from loadtests.results.records import SCHEMA_VERSION, Machine, RunRecord, SummaryRecord

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"


def new_run_dir(parent: Path, preset: str) -> Path:
    """A fresh directory; an existing one is never reused."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    for _ in range(100):
        path = parent / f"{stamp}-{preset}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ResultsError(f"could not create a new run directory under {parent}")


def machine_metadata() -> Machine:
    """The machine as a run records it."""
    sha, dirty = machine.git_state()
    return Machine(cpu_model=machine.cpu_model(), cpu_count=os.cpu_count(), affinity=tuple(machine.usable_cpus()),
                   usable_cores=machine.usable_cores(), os=platform.platform(), hostname=machine.hostname(),
                   memory_gb=machine.memory_gb(), git_sha=sha, git_dirty=dirty, microcode=machine.microcode(),
                   virtualized=machine.virtualized())


def run_file(run_dir: Path | str) -> Path:
    """``run_dir/run.json``, or the file itself when a run.json path is given."""
    path = Path(run_dir)
    return path if path.is_file() else path / RUN_FILE


def load_run(run_dir: Path | str) -> RunRecord:
    """Read a run directory's run.json, migrated to the current schema version."""
    path = run_file(run_dir)
    data = read_json(path, ResultsError, "pass a run directory written by `gil-lab run` or `gil-lab compare`.")
    return parse_run(data, str(path))


def save_run(run_dir: Path, record: RunRecord) -> None:
    write_json_atomic(Path(run_dir) / RUN_FILE, record.to_json())


def save_summary(run_dir: Path, summary: SummaryRecord) -> Path:
    path = Path(run_dir) / SUMMARY_FILE
    write_json_atomic(path, summary.to_json(), indent=2)
    return path


def load_summary(run_dir: Path | str) -> SummaryRecord:
    path = Path(run_dir) / SUMMARY_FILE
    data = read_json(path, ResultsError, "summary.json is written by `gil-lab run`, `compare` and `report`.")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{path} has schema_version {data.get('schema_version')!r}; this lab writes "
                           f"{SCHEMA_VERSION}: rebuild it with `gil-lab report {Path(run_dir)}`.")
    return SummaryRecord.from_json(data, path="summary")


def cell_dir_name(cell_id: str) -> str:
    """A filesystem-safe, readable directory name for a cell id."""
    return cell_id.replace("/", "_").replace(".", "")


def parse_run(document: Any, source: str = "run.json") -> RunRecord:
    """A run.json document (any schema version) as a typed record."""
    return RunRecord.from_json(migrate(document, source), path="run")
