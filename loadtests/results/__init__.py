"""Typed records of a run, their JSON, the run store and the history.

What other stages use, importable from here::

    from loadtests.results import load_run, RunRecord

    run = load_run("results/20261202T135423Z-default-73f3")   # any schema version, migrated
    valid = [cell for cell in run.cells if cell.valid]

- the records of ``run.json`` and ``summary.json`` (``records/``; every record is here,
  the ones most code needs are named below), with ``SCHEMA_VERSION``;
- the store (``store.py``): run directories, reading and writing ``run.json`` and
  ``summary.json``;
- the run being written (``run_writer.py``): the record in memory, saved after every change;
- ``--expect`` bounds (``expectation.py``), old files brought up to date (``migrations.py``),
  and the base of every record (``record.py``).

The history index is ``loadtests.results.history``.
"""

from __future__ import annotations

from loadtests.results.expectation import Expectation, ExpectationError, parse_expectation
from loadtests.results.migrations import migrate
from loadtests.results.record import Record, RecordError
from loadtests.results.records import (
    SCHEMA_VERSION,
    CapacitySearch,
    CapacitySummary,
    Cell,
    CellConfig,
    ComparisonRun,
    ComparisonSummary,
    Plan,
    RunRecord,
    RunSettings,
    SummaryRecord,
    TunedSummary,
    Warmup,
)
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import (
    RUN_FILE,
    SUMMARY_FILE,
    cell_dir_name,
    load_run,
    load_summary,
    new_run_dir,
    parse_run,
    save_run,
    save_summary,
)

__all__ = [
    "RUN_FILE",
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "CapacitySearch",
    "CapacitySummary",
    "Cell",
    "CellConfig",
    "ComparisonRun",
    "ComparisonSummary",
    "Expectation",
    "ExpectationError",
    "Plan",
    "Record",
    "RecordError",
    "RunRecord",
    "RunSettings",
    "RunWriter",
    "SummaryRecord",
    "TunedSummary",
    "Warmup",
    "cell_dir_name",
    "load_run",
    "load_summary",
    "migrate",
    "new_run_dir",
    "parse_run",
    "parse_expectation",
    "save_run",
    "save_summary",
]
