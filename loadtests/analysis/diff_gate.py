"""``gil-lab diff A B --fail-above PCT``: the diff of two runs as an exit status CI can act on.

A gated figure present in both runs (each configuration's throughput; any figure a source
of ``analysis.gated_figures`` adds) *regresses* when B is worse than A with significance
(the whole 95% interval of B ÷ A on the worse side of 1) and its point estimate is more
than PCT percent worse (``analysis.run_change.regressed``). This is asv's rule for
``asv continuous --factor``: significant, and larger than the threshold. The interval
comes from each run's server instances, the unit that separates two runs of the same
code; two runs are never paired with each other.

Invalid cells (not those skipped by design, as for an ``--app-url`` app) in either run's
windows of a compared configuration make the comparison invalid. The exit status is
10 for any regression, else 11 for any invalid cell, else 0.
"""

from __future__ import annotations

from loadtests.analysis.configs import is_invalid
from loadtests.analysis.figures.diff import DiffGate, InvalidConfig, RunDiff
from loadtests.analysis.run_change import regressed
from loadtests.results.records import RunRecord


def _invalid_windows(run: RunRecord, name: str, config_id: str) -> list[str]:
    return [f"run {name}: {cell.id}: {cell.invalid_reason or 'marked invalid without a reason'}"
            for cell in run.cells
            if cell.config_id == config_id and is_invalid(cell) and cell.outcome != "skipped"]


def gate(d: RunDiff, fail_above_pct: float) -> DiffGate:
    """Judge every configuration of ``d`` against the threshold."""
    invalid = []
    for c in d.configs:
        reasons = _invalid_windows(d.a, "A", c.config_id) + _invalid_windows(d.b, "B", c.config_id)
        if reasons:
            invalid.append(InvalidConfig(c.config_id, tuple(reasons)))
    regressions = tuple(c for c in d.changes if regressed(c, fail_above_pct))
    return DiffGate(fail_above_pct, len(d.changes), regressions, tuple(invalid))
