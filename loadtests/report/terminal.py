"""The terminal summary ``gil-lab compare`` ends with: headline table, capacities, claims, the decision per scenario.

The last lines are the decisions (move, stay or not yet), by the same rule and from the
same analysis as the report's cards; a run without any decision (a capacity run) ends
with the verdict in words instead.
"""

from __future__ import annotations

from loadtests.analysis.figures.analysis import Analysis
from loadtests.core.text import text_table
from loadtests.core.wording import verdict
from loadtests.report.capacity_text import RESOLUTION_AND_UNCERTAINTY, capacity_tables
from loadtests.report.decision_text import terminal_decision
from loadtests.report.diagnosis_evidence import terminal_evidence
from loadtests.report.document import Table, plain
from loadtests.report.faults_text import terminal_fault_lines
from loadtests.report.safety_text import race_lines, safe_to_move
from loadtests.report.service_text import terminal_lines
from loadtests.report.verdict import fmt_ci, fmt_eff, fmt_pct, fmt_ratio, verdict_paragraph


def _table(t: Table) -> list[str]:
    return text_table([t.columns, *t.rows])


def render_terminal(a: Analysis) -> str:
    """A compact table of headline comparisons, then crashes, hangs, the soak, and the decision per scenario."""
    rows: list[tuple[str, ...]] = [("scenario", "server", "users", "3.14 rps", "3.14t rps", "ratio (95% CI)",
                                    "verdict", "eff", "RSS")]
    for c in a.headlines:
        rows.append((c.scenario, c.server, str(c.users), fmt_ci(c.baseline.rps), fmt_ci(c.candidate.rps),
                     fmt_ratio(c), verdict(c.speedup), fmt_eff(c).split(" ")[0], fmt_pct(c.memory_ratio)))
    lines = [f"run {a.run.run_id} ({a.run.preset}), {a.run.usable_cores} usable core(s)"]
    if a.run.settings.plan.capacity is None:
        lines += text_table(rows) if len(rows) > 1 else ["(no 3.14t/3.14 pair to compare)"]
    tables = capacity_tables(a)
    if tables is not None:
        lines += ["", *_table(tables.capacity)]
        if tables.ratios is not None:
            lines += ["", *_table(tables.ratios)]
        if tables.tuned is not None:
            lines += ["", "Best setting per side (3.14t ÷ side: at equal settings, and each at its best):",
                      *_table(tables.tuned)]
        lines += ["", *tables.headlines, *tables.tuned_headlines, "", RESOLUTION_AND_UNCERTAINTY]
    evidence = terminal_evidence(a)
    if evidence:
        lines += ["", *evidence]
    diagnosis = terminal_lines(a)
    if diagnosis:
        lines += ["", *diagnosis]
    safe = safe_to_move(a.run.safety, team_service=bool(a.run.settings.team_scenarios and a.run.settings.service),
                        growths=a.memory)
    if safe is not None:
        races = race_lines(a.run.safety) if a.run.safety is not None else []
        lines += ["", safe, *(f"  - {race}" for race in races)]
    faults = terminal_fault_lines(a)
    if faults:
        lines += ["", *faults]
    lines.append("")
    if set(a.scenarios) <= set(a.run.settings.team_scenarios):
        lines.append("claims: not checked (C1–C6 are about the lab's own scenarios; yours get the diagnosis above)")
    else:
        lines.append("claims: " + "  ".join(f"{r.id} {r.status}" for r in a.claims.rows))
    if a.decisions:
        lines += ["", "The decision, per scenario (docs/report.md has the rule):"]
        lines += [line for d in a.decisions for line in terminal_decision(d)]
    elif a.run.settings.plan.capacity is None:
        lines.append("")
        lines.append(plain(verdict_paragraph(a)))
    return "\n".join(lines) + "\n"
