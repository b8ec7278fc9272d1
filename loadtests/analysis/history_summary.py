"""What the run history keeps of a run: its headline speedups (or capacity ratios), and the series change points
need.

The document is made from the run's analysis: the run just measured is indexed from the
analysis its command already holds; a run directory indexed on the way (``gil-lab
history``) is read and analysed once for it.
"""

from __future__ import annotations

from typing import Any

from loadtests.analysis.capacity_diff import capacity_estimates, capacity_figures
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import Comparison
from loadtests.analysis.figures.run_change import RunEstimate
from loadtests.analysis.figures.stats import PairedRatio
from loadtests.analysis.gated_figures import throughput_figures
from loadtests.analysis.pooling import conditions
from loadtests.analysis.ratio_diff import paired_estimate
from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.summary import KINDS
from loadtests.core.wording import verdict
from loadtests.results.records import RunRecord

#: Bumped when the document gains what change points need; older rows are then re-read from their run.json.
#: 3: each series is a run-level estimate (log value, its error between runs, df), and the run's conditions.
#: 4: a capacity run's capacities and ratios with their intervals, and their series.
SUMMARY_VERSION = 4


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def ratio_series_key(c: Comparison) -> str:
    """A paired ratio's identity across runs: its kind and the config_ids of its two sides."""
    return f"{KINDS[c.kind]}:{c.candidate.config_id}:{c.baseline.config_id}"


def ratio_estimate(c: Comparison) -> RunEstimate | None:
    """A comparison's paired ratio as a run-level estimate, keyed for the history."""
    r = c.speedup
    if not isinstance(r, PairedRatio) or r.ratio <= 0:
        return None
    return paired_estimate(r, ratio_series_key(c), f"{c.scenario} {c.candidate.label} / {c.baseline.label} "
                                                   f"u{c.users}")


def _series(a: Analysis) -> list[dict[str, Any]]:
    """What change points need of each series: the run's estimate on the log scale, its error and df."""
    estimates = [*throughput_figures(a), *(e for e in map(ratio_estimate, a.comparisons) if e is not None),
                 *capacity_estimates(a)]
    return [{"key": e.key, "measure": e.measure, "label": e.label, "mean": e.log_value, "se": e.log_se, "df": e.df}
            for e in estimates]


def history_document(a: Analysis) -> dict[str, Any]:
    """The JSON document the history stores beside a run's key columns."""
    run = a.run
    heads = [{"scenario": c.scenario, "server": c.server, "users": c.users, "ratio": round(c.speedup.ratio, 4),
              "low": _rounded(c.speedup.low), "high": _rounded(c.speedup.high), "verdict": verdict(c.speedup)}
             for c in a.headlines]
    mb_heads = []
    if a.microbench is not None:
        cores = a.microbench.usable_cores
        rows = a.microbench.rows
        top = max((r.threads for r in rows if r.threads <= cores), default=None)
        mb_heads = [{"workload": r.workload, "variant": r.variant, "threads": r.threads, "speedup": r.speedup}
                    for r in rows if r.threads == top and r.speedup is not None]
    return {
        "finished_at": run.finished_at,
        "git_dirty": run.machine.git_dirty,
        "cpu_model": run.machine.cpu_model,
        "usable_cores": run.usable_cores,
        "cells": len(run.cells),
        "invalid_cells": len(a.invalid_cells),
        "interpreters": {label: info.version for label, info in run.interpreters.items()},
        "headlines": heads,
        "microbench": mb_heads,
        "series": _series(a),
        "conditions": conditions(run),
        # a capacity run's capacities and ratios with their intervals (the listing shows its 3.14t ÷ 3.14)
        "capacity": [{"key": f.key, "measure": f.measure, "label": f.label, "value": round(f.value, 4),
                      "low": _rounded(f.low), "high": _rounded(f.high), "lower_bound": f.lower_bound}
                     for f in capacity_figures(a)],
        "summary_version": SUMMARY_VERSION,
    }


def index_document(run: RunRecord) -> dict[str, Any]:
    """The document of a run read from its directory (``results.history.sync_history`` indexes with it)."""
    return history_document(analyse(run))
