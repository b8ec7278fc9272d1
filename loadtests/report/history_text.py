"""``gil-lab history`` as a terminal table, then the change points found across the runs."""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.history import ChangePoint
from loadtests.core.text import text_table
from loadtests.results.history import HistoryEntry


def _steps(run_id: str, points: Sequence[ChangePoint]) -> str:
    here = [c for c in points if c.run_id == run_id]
    if not here:
        return "—"
    arrows = "".join("↑" if c.direction == "up" else "↓" for c in here)
    pending = sum(c.confirmed_by is None for c in here)
    return f"{len(here)} {arrows}" + (f" ({pending} unconfirmed)" if pending else "")


def _figure(c: ChangePoint, value: float) -> str:
    return f"{value:.2f}×" if c.measure == "paired ratio" else f"{value:.1f} rps"


def render_change_points(points: Sequence[ChangePoint]) -> list[str]:
    """One line per change point: the series, from what to what, and which run confirmed it."""
    if not points:
        return []
    lines = ["", "change points (a run and the next one both outside the runs before; docs/ci.md):"]
    for c in points:
        confirmed = f"confirmed by {c.confirmed_by}" if c.confirmed_by else "unconfirmed: the next run decides"
        lines.append(f"  {c.run_id}  {c.measure} {c.label}: {_figure(c, c.before[0])} over {c.before_runs} run(s) "
                     f"→ {_figure(c, c.after[0])} ({c.change:.2f}×, {c.direction}), {confirmed}")
    return lines


def _capacity_heads(summary: dict) -> str:  # type: ignore[type-arg]
    """A capacity run's 3.14t ÷ 3.14 capacity ratios, each with its interval."""
    shown = []
    for f in summary.get("capacity") or ():
        if f.get("measure") != "capacity ratio" or not str(f.get("key", "")).startswith("interpreter:"):
            continue
        interval = f" ({f['low']:.2f}–{f['high']:.2f})" if f.get("low") is not None and f.get("high") is not None \
            else ""
        shown.append(f"{f['label'].split(' ')[0]} capacity {f['value']:.2f}×{interval}")
    return "; ".join(shown)


def render_new_conditions(changes: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """One line per run measured under other controlled conditions than the run before: not pooled with it."""
    if not changes:
        return []
    lines = ["", "new conditions (these runs start new series; earlier runs are not pooled with them):"]
    lines += [f"  {run_id}  " + "; ".join(why) for run_id, why in changes]
    return lines


def render_history(entries: Sequence[HistoryEntry], points: Sequence[ChangePoint] = (),
                   new_conditions: Sequence[tuple[str, Sequence[str]]] = ()) -> str:
    """One line per run: date, commit, preset, cells, change points, and the headline speedup per scenario."""
    if not entries:
        return "no runs recorded yet: run `gil-lab compare` (or `gil-lab run`)\n"
    rows = [("date (UTC)", "git", "preset", "cells", "headline 3.14t vs 3.14 (highest users)", "steps", "run")]
    for e in entries:
        s = e.summary
        heads = "; ".join(f"{h.scenario}/{h.server} {h.ratio:.2f}× ({h.verdict})" for h in e.headlines) or \
            _capacity_heads(s) or "—"
        sha = (e.git_sha or "?")[:8] + ("+" if s.get("git_dirty") else "")
        cells = f"{s.get('cells', '?')}" + (f" ({s['invalid_cells']} invalid)" if s.get("invalid_cells") else "")
        if not e.complete:
            cells += " incomplete"
        rows.append((e.created_at.replace("T", " ").rstrip("Z"), sha, e.preset, cells, heads,
                     _steps(e.run_id, points), e.run_id))
    return "\n".join(text_table(rows) + render_change_points(points) + render_new_conditions(new_conditions)) + "\n"
