"""What the run history keeps of a run: its headline speedups, computed from run.json."""

from __future__ import annotations

from typing import Any

from loadtests.analysis.configs import comparisons, headline, invalid_cells, summarize_configs
from loadtests.analysis.microbench_stats import summarize as summarize_microbench
from loadtests.analysis.stats import verdict
from loadtests.results.records import Microbench, RunRecord


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def run_summary(run: RunRecord) -> dict[str, Any]:
    """The JSON document the history stores beside a run's key columns."""
    configs = summarize_configs(run)
    heads = [{"scenario": scenario, "server": server, "users": c.users, "ratio": round(c.speedup.ratio, 4),
              "low": _rounded(c.speedup.low), "high": _rounded(c.speedup.high), "verdict": verdict(c.speedup)}
             for (scenario, server), c in headline(comparisons(run, configs)).items()]
    mb_heads = []
    if isinstance(run.microbench, Microbench):
        cores = run.microbench.usable_cores
        rows = summarize_microbench(run.microbench.points, cores)
        top = max((r.threads for r in rows if r.threads <= cores), default=None)
        mb_heads = [{"workload": r.workload, "variant": r.variant, "threads": r.threads, "speedup": r.speedup}
                    for r in rows if r.threads == top and r.speedup is not None]
    return {
        "finished_at": run.finished_at,
        "git_dirty": run.machine.git_dirty,
        "cpu_model": run.machine.cpu_model,
        "usable_cores": run.usable_cores,
        "cells": len(run.cells),
        "invalid_cells": len(invalid_cells(run)),
        "interpreters": {label: info.version for label, info in run.interpreters.items()},
        "headlines": heads,
        "microbench": mb_heads,
    }
