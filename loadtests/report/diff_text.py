"""``gil-lab diff`` as terminal text."""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadtests.analysis.figures.diff import RatioDiff, RunDiff
from loadtests.analysis.figures.run_change import FigureChange, RunEstimate
from loadtests.core.text import text_table
from loadtests.core.wording import format_interval


def render_diff(d: RunDiff) -> str:
    """Warnings first, then one row per configuration, what only one run measured, and how the paired ratios moved."""
    lines = [f"A: {d.a.run_id} ({d.a.preset}, {d.a.created_at})", f"B: {d.b.run_id} ({d.b.preset}, {d.b.created_at})"]
    if d.warnings:
        lines.append("")
        lines.append("warning: the environments differ, so ratios mix the change with these:")
        lines += [f"  - {w}" for w in d.warnings]
    lines.append("")
    rows = [("configuration", "A rps", "B rps", "B/A", "95% CI", "verdict", "p95 B/A")]
    for c in d.configs:
        rows.append((c.config_id, f"{c.a.rps.mean:.1f} (n={c.a.n_valid})" if c.a.rps else "—",
                     f"{c.b.rps.mean:.1f} (n={c.b.n_valid})" if c.b.rps else "—",
                     f"{c.rps.ratio:.2f}×" if c.rps else "—",
                     format_interval(c.rps.low, c.rps.high) if c.rps else "—", c.verdict,
                     f"{c.p95_ratio:.2f}×" if c.p95_ratio is not None else "—"))
    if len(rows) > 1:
        lines += text_table(rows)
    elif not _capacity(d.changes):
        lines.append("no configuration is in both runs")
    for label, ids in (("only in A", d.only_a), ("only in B", d.only_b)):
        if ids:
            lines.append(f"{label}: {', '.join(ids)}")
    return "\n".join(lines) + "\n" + render_ratio_diffs(d.ratios) + render_capacity_changes(_capacity(d.changes))


def _capacity(changes: Sequence[FigureChange]) -> list[FigureChange]:
    return [c for c in changes if c.a.measure.startswith("capacity")]


def _figure(e: RunEstimate) -> str:
    """``6.20 rps (95% CI ±11%)`` or ``6.20 rps (no interval)``: the figure and the spread its interval gives."""
    unit = "×" if e.unit == "×" else f" {e.unit}"
    if e.log_se is None or e.df is None:
        return f"{e.value:.2f}{unit} (no interval)"
    return f"{e.value:.2f}{unit} (±{(math.exp(1.96 * e.log_se) - 1) * 100:.0f}%)"


def render_capacity_changes(changes: Sequence[FigureChange]) -> str:
    """Capacities and capacity ratios of both runs, each with its spread, and B ÷ A with the change's interval."""
    if not changes:
        return ""
    rows = [("capacity at the SLO", "A", "B", "B/A", "95% CI", "verdict")]
    for c in changes:
        verdict = ("no interval" if c.significant is None else "not significant" if not c.significant
                   else "higher in B" if c.change > 1 else "lower in B")
        rows.append((c.a.label, _figure(c.a), _figure(c.b), f"{c.change:.2f}×",
                     format_interval(c.low, c.high) if c.low is not None and c.high is not None else "—", verdict))
    return "\n".join(["", "capacities and capacity ratios of each run (gated by --fail-above: docs/ci.md):",
                      *text_table(rows)]) + "\n"


def _moved(r: RatioDiff) -> str:
    if r.significant is None:
        return "no interval (a run has 1 pair)"
    if not r.significant:
        return "not significant"
    return "higher in B" if r.change > 1 else "lower in B"


def render_ratio_diffs(diffs: Sequence[RatioDiff]) -> str:
    """Paired ratios of both runs side by side: how 3.14t/3.14 (and the other comparisons) moved."""
    if not diffs:
        return ""
    rows = [("paired ratio", "users", "A", "B", "B/A", "95% CI", "verdict")]
    for r in diffs:
        rows.append((f"{r.scenario}/{r.server} {r.candidate} / {r.baseline}", f"u{r.users}", f"{r.a.ratio:.2f}×",
                     f"{r.b.ratio:.2f}×", f"{r.change:.2f}×", format_interval(r.low, r.high), _moved(r)))
    return "\n".join(["", "paired ratios of each run (shown, not gated: docs/ci.md):", *text_table(rows)]) + "\n"
