"""The terminal summary ``gil-lab compare`` ends with: headline table, claims, verdict."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loadtests.analysis.capacity import DEFAULT_SLO_MS
from loadtests.analysis.configs import headline
from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.stats import verdict
from loadtests.analysis.summary import capacity_entries
from loadtests.analysis.tuning import run_settings, tuned_entries
from loadtests.core.text import text_table
from loadtests.report.document import plain
from loadtests.report.safety_text import race_lines, safe_to_move
from loadtests.report.service_text import terminal_lines
from loadtests.report.verdict import (
    CAPACITY_COLUMNS,
    TUNED_COLUMNS,
    capacity_headlines,
    capacity_row,
    columns_at,
    fmt_ci,
    fmt_eff,
    fmt_pct,
    fmt_ratio,
    tuned_headlines,
    tuned_row,
    untuned,
    verdict_paragraph,
)
from loadtests.results.records import RunRecord


def render_terminal(run: RunRecord | Mapping[str, Any] | Path | str, slo_ms: float = DEFAULT_SLO_MS) -> str:
    """A compact table of headline comparisons, then the one-paragraph verdict."""
    a = analyse(run, slo_ms)
    rows: list[tuple[str, ...]] = [("scenario", "server", "users", "3.14 rps", "3.14t rps", "ratio (95% CI)",
                                    "verdict", "eff", "RSS")]
    for (_, _), c in headline(a.comparisons).items():
        rows.append((c.scenario, c.server, str(c.users), fmt_ci(c.baseline.rps), fmt_ci(c.candidate.rps),
                     fmt_ratio(c), verdict(c.speedup), fmt_eff(c).split(" ")[0], fmt_pct(c.memory_ratio)))
    lines = [f"run {a.run.run_id} ({a.run.preset}), {a.run.usable_cores} usable core(s)"]
    if a.run.settings.plan.capacity is None:
        lines += text_table(rows) if len(rows) > 1 else ["(no 3.14t/3.14 pair to compare)"]
    capacity = capacity_entries(a.run)
    if capacity:
        slo = capacity[0].slo_ms
        lines += ["", *text_table([columns_at(CAPACITY_COLUMNS, slo), *map(capacity_row, capacity)])]
        tuned = tuned_entries(run_settings(a.run))
        if tuned:
            lines += ["", "Best setting per side (3.14t ÷ side: at equal settings, and each at its best):",
                      *text_table([columns_at(TUNED_COLUMNS, slo), *map(tuned_row, tuned)])]
        lines += ["", *capacity_headlines(untuned(capacity, tuned)), *tuned_headlines(tuned)]
    diagnosis = terminal_lines(a)
    if diagnosis:
        lines += ["", *diagnosis]
    safe = safe_to_move(a.run.safety, team_service=bool(a.run.settings.team_scenarios and a.run.settings.service))
    if safe is not None:
        races = race_lines(a.run.safety) if a.run.safety is not None else []
        lines += ["", safe, *(f"  - {race}" for race in races)]
    lines.append("")
    if set(a.scenarios) <= set(a.run.settings.team_scenarios):
        lines.append("claims: not checked (C1–C6 are about the lab's own scenarios; yours get the diagnosis above)")
    else:
        lines.append("claims: " + "  ".join(f"{r.id} {r.status}" for r in a.claims.rows))
    if a.run.settings.plan.capacity is None:
        lines.append("")
        lines.append(plain(verdict_paragraph(a)))
    return "\n".join(lines) + "\n"

