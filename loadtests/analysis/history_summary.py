"""What the run history keeps of a run: its headline speedups, computed from run.json."""

from __future__ import annotations

import math
from typing import Any

from loadtests.analysis.configs import (
    Comparison,
    ConfigSummary,
    comparisons,
    headline,
    invalid_cells,
    summarize_configs,
)
from loadtests.analysis.microbench_stats import summarize as summarize_microbench
from loadtests.analysis.paired import PairedRatio
from loadtests.analysis.stats import verdict
from loadtests.analysis.summary import KINDS
from loadtests.results.records import Microbench, RunRecord

#: Bumped when the document gains what change points need; older rows are then re-read from their run.json.
SUMMARY_VERSION = 2


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def ratio_series_key(c: Comparison) -> str:
    """A paired ratio's identity across runs: its kind and the config_ids of its two sides."""
    return f"{KINDS[c.kind]}:{c.candidate.config_id}:{c.baseline.config_id}"


def _series(configs: list[ConfigSummary], comps: list[Comparison]) -> list[dict[str, Any]]:
    """What change points need of each series: n, mean and sd of the windows' rps, or of the paired log ratios."""
    out: list[dict[str, Any]] = [
        {"key": c.config_id, "measure": "throughput", "label": f"{c.scenario} {c.label} u{c.users}", "n": c.rps.n,
         "mean": c.rps.mean, "sd": c.rps.stdev} for c in configs if c.rps is not None]
    for c in comps:
        if isinstance(c.speedup, PairedRatio):
            out.append({"key": ratio_series_key(c), "measure": "paired ratio",
                        "label": f"{c.scenario} {c.candidate.label} / {c.baseline.label} u{c.users}",
                        "n": c.speedup.n_pairs, "mean": math.log(c.speedup.ratio), "sd": c.speedup.log_sd})
    return out


def run_summary(run: RunRecord) -> dict[str, Any]:
    """The JSON document the history stores beside a run's key columns."""
    configs = summarize_configs(run)
    comps = comparisons(run, configs)
    heads = [{"scenario": scenario, "server": server, "users": c.users, "ratio": round(c.speedup.ratio, 4),
              "low": _rounded(c.speedup.low), "high": _rounded(c.speedup.high), "verdict": verdict(c.speedup)}
             for (scenario, server), c in headline(comps).items()]
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
        "series": _series(configs, comps),
        "summary_version": SUMMARY_VERSION,
    }
