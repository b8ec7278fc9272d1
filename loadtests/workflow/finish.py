"""What a measured run writes once its last window is done, from the record it holds in memory.

:func:`conclude` analyses that record once, writes summary.json and indexes the run in
the history from the analysis; nothing is read back from the run directory. The
analysis is returned, for the reports and the ``--expect`` verdicts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS
from loadtests.analysis.history_summary import history_document
from loadtests.analysis.run_analysis import analyse
from loadtests.results.history import index_run
from loadtests.results.records import RunRecord
from loadtests.results.store import save_summary


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def conclude(run_dir: Path, record: RunRecord, slo_ms: float = DEFAULT_SLO_MS,
             target_rps: float | None = None, warn: Callable[[str], None] = _to_stderr) -> Analysis:
    """Analyse ``record``, write its summary.json into ``run_dir`` and index it in the history.

    The history is an index: one that cannot be written (another lab holds it, the file is
    damaged) is a warning, never a failed run.
    """
    a = analyse(record, slo_ms, target_rps)
    save_summary(run_dir, a.summary)
    index_run(run_dir, record, history_document(a), warn)
    return a
