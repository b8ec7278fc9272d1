"""CI gates as terminal text: every expectation and the diff gate say why they pass or fail."""

from __future__ import annotations

from loadtests.analysis.figures.diff import DiffGate
from loadtests.analysis.figures.expectations import ExpectationReport
from loadtests.analysis.figures.safety_gate import SafetyGateResult
from loadtests.core.exit_status import ExitStatus
from loadtests.core.wording import format_interval

_MARK = {"pass": "PASS", "fail": "FAIL", "invalid": "INVALID", "missing": "MISSING"}
_COUNTED = {"pass": "passed", "fail": "failed", "invalid": "invalid", "missing": "missing"}


def render_expectations(report: ExpectationReport) -> str:
    """One line per expectation and server, then the count and the exit status."""
    lines = [f"expectations on run {report.run_id}:"]
    lines += [f"  {_MARK[r.status]:<7}  {r.expectation.text}  {r.reason}" for r in report.results]
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    tally = ", ".join(f"{n} {_COUNTED[status]}" for status, n in counts.items())
    lines.append(f"{tally}: exit status {int(report.status)}")
    return "\n".join(lines) + "\n"


def render_safety_gate(run_id: str, results: list[SafetyGateResult], status: ExitStatus) -> str:
    """One line per ``no-races`` expectation, then the exit status."""
    lines = [f"safety expectations on run {run_id}:"]
    lines += [f"  {_MARK[r.status]:<7}  {r.expectation.text}  {r.reason}" for r in results]
    lines.append(f"exit status {int(status)}")
    return "\n".join(lines) + "\n"


def render_diff_gate(g: DiffGate) -> str:
    """Each regression and invalid configuration with its figures, then the verdict and exit status."""
    lines = [f"gate: fail above {g.fail_above_pct:g}% worse with significance, over {g.compared} figure(s) "
             "in both runs (intervals from each run's server instances)"]
    for c in g.regressions:
        ci = format_interval(c.low, c.high)
        lines.append(f"  REGRESSION  {c.key}: {c.a.measure} B/A {c.change:.2f}× (95% CI {ci}), "
                     f"{c.worse_pct:.1f}% worse")
    for i in g.invalid:
        lines.append(f"  INVALID     {i.config_id}: " + "; ".join(i.reasons))
    if not g.regressions and not g.invalid:
        lines.append("  passed: no figure is worse with significance by more than the threshold")
    lines.append(f"exit status {int(g.status)}")
    return "\n".join(lines) + "\n"
