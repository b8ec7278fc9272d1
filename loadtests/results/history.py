"""The run history: an embedded SQLite index of run directories.

``results/history.sqlite`` holds one row per run: when, which commit, which preset,
and a summary document (the headline 3.14t/3.14 speedup per scenario). run.json stays
the source of truth; the index can always be rebuilt from the run directories, so it
has no migrations. The table is created if missing, the variable part of a row is a
JSON document (new fields need no new columns), and ``sync_history`` indexes run
directories written before the history existed, or by an older lab.

The summary document comes from the caller, which knows what a headline is: the run just
finished is indexed from the document its command computed in memory (``record_run``);
run directories found on disk are indexed with a summarizer function
(``analysis.history_summary.index_document``).

Several labs may share one results directory. The index runs in WAL mode (readers never
wait for a writer), every write is one short transaction taken after the run
directories were read and summarised, and a writer waits at most
:data:`BUSY_TIMEOUT_S` for another. A finished run is indexed best-effort
(:func:`index_run`): the index can be rebuilt, the run cannot, so a failure is a warning
that says whether another lab held the lock (:class:`HistoryLocked`, nothing to fix) or
the file is damaged (:class:`HistoryCorrupt`, delete it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.clock import utc_now
from loadtests.core.errors import HistoryCorrupt, HistoryLocked, ResultsError
from loadtests.results.records import RunRecord
from loadtests.results.store import RUN_FILE, load_run

HISTORY_FILE = "history.sqlite"
#: How long a write waits for another lab's write to end before the history counts as locked.
BUSY_TIMEOUT_S = 10.0
_LOCKED = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    run_dir     TEXT NOT NULL,
    created_at  TEXT,
    preset      TEXT,
    git_sha     TEXT,
    complete    INTEGER,
    mtime_ns    INTEGER,
    recorded_at TEXT,
    summary     TEXT NOT NULL
)
"""


def history_path(results_dir: Path | str) -> Path:
    """Where the index of the runs under ``results_dir`` lives."""
    return Path(results_dir) / HISTORY_FILE


@dataclass(frozen=True)
class Headline:
    """The 3.14t/3.14 comparison of one scenario and server at its highest users level."""

    scenario: str
    server: str
    users: int
    ratio: float
    low: float | None
    high: float | None
    verdict: str


@dataclass(frozen=True)
class HistoryEntry:
    run_id: str
    run_dir: str
    created_at: str
    preset: str
    git_sha: str | None
    complete: bool
    summary: dict[str, Any] = field(repr=False)

    @property
    def headlines(self) -> list[Headline]:
        return [Headline(**h) for h in self.summary.get("headlines") or ()]

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "run_dir": self.run_dir, "created_at": self.created_at, "preset": self.preset,
                "git_sha": self.git_sha, "complete": self.complete, **self.summary}


#: Turns a run into the summary document the index stores (``analysis.history_summary.index_document``).
Summarizer = Callable[[RunRecord], dict[str, Any]]


def _failure(db: Path, exc: sqlite3.Error) -> ResultsError:
    """The lab's error for an SQLite one: locked by another process, a damaged file, or something else."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # extended codes carry the primary one
    if code in _LOCKED or "locked" in str(exc):
        return HistoryLocked(f"the run history {db} was locked by another lab (or `gil-lab history`) for over "
                             f"{BUSY_TIMEOUT_S:g} s; nothing is wrong with it: `gil-lab history` indexes what is "
                             "missing")
    if code in _CORRUPT:
        return HistoryCorrupt(f"the run history {db} is damaged ({exc}); delete it and run `gil-lab history` to "
                              "rebuild it from the run directories")
    return ResultsError(f"the run history {db} could not be used ({exc})")


@contextmanager
def _connect(db: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode: reads take no lock a writer waits for, writes use :func:`_write`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(db, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failure(db, exc) from None
    with closing(conn):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")  # kept in the file: set once
            conn.execute(_SCHEMA)
            yield conn
        except sqlite3.Error as exc:
            raise _failure(db, exc) from None


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction: the write lock is taken at its start and held only for its statements."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


_UPSERT = ("INSERT OR REPLACE INTO runs (run_id, run_dir, created_at, preset, git_sha, complete, mtime_ns, "
           "recorded_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _row(run_dir: Path, run: RunRecord, summary: dict[str, Any]) -> tuple[Any, ...]:
    """A run's row, computed before any transaction starts."""
    mtime = (run_dir / RUN_FILE).stat().st_mtime_ns
    return (run.run_id, str(run_dir.resolve()), run.created_at, run.preset, run.machine.git_sha,
            int(run.complete), mtime, utc_now(), json.dumps(summary))


def _store(db: Path, rows: Sequence[tuple[Any, ...]], gone: Sequence[str] = ()) -> None:
    with _connect(db) as conn, _write(conn):
        conn.executemany(_UPSERT, rows)
        conn.executemany("DELETE FROM runs WHERE run_id = ?", [(run_id,) for run_id in gone])


def record_run(run_dir: Path | str, run: RunRecord, summary: dict[str, Any],
               results_dir: Path | str | None = None) -> HistoryEntry:
    """Index the run just written to ``run_dir`` (again), from its record and summary document in memory.

    Idempotent, keyed by run_id; nothing is read from the run directory. The index sits in
    the run's parent by default.
    """
    run_dir = Path(run_dir)
    db = history_path(results_dir if results_dir is not None else run_dir.resolve().parent)
    _store(db, [_row(run_dir, run, summary)])
    return _entry_by_id(db, run.run_id)


def index_run(run_dir: Path | str, run: RunRecord, summary: dict[str, Any], warn: Callable[[str], None],
              results_dir: Path | str | None = None) -> HistoryEntry | None:
    """:func:`record_run` for a run that has just finished, best-effort: a history that cannot be written is a
    warning, and the run, its summary and its reports go on (the history can be rebuilt from the run
    directories; a run cannot)."""
    try:
        return record_run(run_dir, run, summary, results_dir)
    except ResultsError as exc:
        warn(f"warning: the run is complete, but it is not in the history yet: {exc}")
        return None


def _version(summary: str) -> object:
    try:
        return json.loads(summary).get("summary_version")
    except (TypeError, AttributeError, json.JSONDecodeError):
        return None


def sync_history(results_dir: Path | str, summarize: Summarizer, summary_version: int | None = None) -> list[str]:
    """Index every run directory under ``results_dir`` that is new or changed; return problems found.

    A directory whose run.json cannot be read is reported, not indexed; a run whose
    directory has gone is dropped from the index. With ``summary_version``, a row whose
    summary document carries another ``summary_version`` is re-read too (the summarizer
    has learnt something new). The runs are read with no lock held; the changes are then
    written in one short transaction.
    """
    root = Path(results_dir)
    db = history_path(root)
    problems: list[str] = []
    with _connect(db) as conn:
        known = {row[0]: (row[1], row[2], _version(row[3]))
                 for row in conn.execute("SELECT run_dir, mtime_ns, run_id, summary FROM runs")}
    seen: set[str] = set()
    rows = []
    for run_file in sorted(root.glob(f"*/{RUN_FILE}")) if root.is_dir() else ():
        run_dir = run_file.parent
        key = str(run_dir.resolve())
        seen.add(key)
        fresh = summary_version is None or (key in known and known[key][2] == summary_version)
        if key in known and known[key][0] == run_file.stat().st_mtime_ns and fresh:
            continue
        try:
            run = load_run(run_dir)
            rows.append(_row(run_dir, run, summarize(run)))
        except ResultsError as exc:
            problems.append(f"{run_dir.name}: {exc}")
    gone = [run_id for key, (_, run_id, _) in known.items()
            if key not in seen and not Path(key).joinpath(RUN_FILE).is_file()]
    if rows or gone:
        _store(db, rows, gone)
    return problems


def _row_entry(row: tuple) -> HistoryEntry:
    run_id, run_dir, created_at, preset, git_sha, complete, summary = row
    try:
        data = json.loads(summary)
    except (TypeError, json.JSONDecodeError):
        data = {}
    return HistoryEntry(run_id, run_dir, created_at or "", preset or "?", git_sha, bool(complete), data)


_COLUMNS = "run_id, run_dir, created_at, preset, git_sha, complete, summary"


def _entry_by_id(db: Path, run_id: str) -> HistoryEntry:
    with _connect(db) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:  # pragma: no cover - just written
        raise ResultsError(f"run {run_id} is not in {db}")
    return _row_entry(row)


def list_runs(results_dir: Path | str, limit: int | None = 20) -> list[HistoryEntry]:
    """Runs in the index, newest first (by creation time)."""
    db = history_path(results_dir)
    if not db.is_file():
        return []
    sql = f"SELECT {_COLUMNS} FROM runs ORDER BY created_at DESC, run_id DESC"
    params: tuple = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (int(limit),)
    with _connect(db) as conn:
        return [_row_entry(r) for r in conn.execute(sql, params)]
