"""Crashes, hangs and the soak's memory, in words: the report's blocks and the terminal's lines.

Everything shown was decided by the analysis (summary.json's ``safety`` object, each
interpreter's ``MemoryGrowth``): this module only lays it out. Tracebacks and stacks are
cut to :data:`SHOWN_LINES` lines; run.json and summary.json hold them whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.report.document import Chart, Code, Paragraph, Table
from loadtests.results.records.safety import CrashSummary, HangSummary

SHOWN_LINES = 60
DOCS = "docs/safety.md"


def _cut(text: str, lines: int = SHOWN_LINES) -> str:
    kept = text.splitlines()
    if len(kept) <= lines:
        return text
    return "\n".join([*kept[:lines], f"... {len(kept) - lines} more lines in run.json"])


def _where(entry: CrashSummary | HangSummary) -> str:
    return "during the soak" if entry.where == "soak" else f"in a window of {entry.where}"


def crash_sentence(c: CrashSummary) -> str:
    flight = f", with {', '.join(c.endpoints)} in flight" if c.endpoints else ", with no request in flight"
    return f"{c.interpreter} {_where(c)}: {c.fatal}{flight}"


def hang_sentence(h: HangSummary) -> str:
    return (f"{h.interpreter} {_where(h)}: {', '.join(h.endpoints)} in flight for longer than {h.bound_s:g} s, "
            f"{len(h.stacks)} threads")


def growth_sentence(g: MemoryGrowth) -> str:
    if g.slope_mb_per_1000 is None or g.ci_low is None or g.ci_high is None:
        return f"{g.interpreter}: no trend ({g.why_unknown})"
    state = "grows" if g.grows else "does not grow"
    threads = (f"; threads {g.threads_start} → {g.threads_end}" if g.threads_start is not None
               and g.threads_end is not None else "")
    return (f"{g.interpreter} {state}: {g.slope_mb_per_1000:+.2f} MB per 1,000 requests after the plateau at "
            f"{g.plateau_s:g}s (95% CI {g.ci_low:+.2f} to {g.ci_high:+.2f}; {g.measure} {g.plateau_mb:.1f} → "
            f"{g.end_mb:.1f} MB over {g.requests} requests{threads})")


def fault_blocks(a: Analysis) -> list[Paragraph | Code]:
    """Each crash with its traceback, each hang with every thread's stack (nothing when there were none)."""
    safety = a.summary.safety
    if safety is None:
        return []
    blocks: list[Paragraph | Code] = []
    for c in safety.crashes:
        blocks += [Paragraph(f"**Crash** {crash_sentence(c)}."),
                   Code(_cut(c.traceback) or "(faulthandler wrote nothing)", "faulthandler's traceback, every thread")]
    for h in safety.hangs:
        blocks += [Paragraph(f"**Hang** {hang_sentence(h)}: where each thread waited, dumped while the server "
                             f"went on ({DOCS})."),
                   Code(_cut("\n\n".join(h.stacks)), "every thread's stack")]
    return blocks


def memory_rows(growths: Sequence[MemoryGrowth]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("interpreter", "requests", "plateau at", "MB per 1,000 requests (95% CI)",
                                    "grows", "threads")]
    for g in growths:
        slope = "—" if g.slope_mb_per_1000 is None or g.ci_low is None or g.ci_high is None else (
            f"{g.slope_mb_per_1000:+.2f} ({g.ci_low:+.2f} to {g.ci_high:+.2f})")
        plateau = "—" if g.plateau_s is None else f"{g.plateau_s:g}s"
        threads = "—" if g.threads_start is None else f"{g.threads_start} → {g.threads_end}"
        rows.append((g.interpreter, str(g.requests), plateau, slope,
                     "yes" if g.grows else ("no" if g.known else f"unknown: {g.why_unknown}"), threads))
    return rows


def soak_blocks(a: Analysis, chart: Chart | None) -> list[Paragraph | Table | Chart]:
    """The soak: what it held, the chart of both interpreters, and each one's growth."""
    if not a.memory:
        return []
    measure = a.memory[0].measure
    rows = memory_rows(a.memory)
    return [Paragraph(f"**Memory under a steady load** (the soak, {DOCS}): both interpreters' servers loaded side by "
                      f"side, {measure} fitted per 1,000 requests after the allocator's plateau, with a 95% interval "
                      "from block means; it grows only when the whole interval lies above zero and adds up to more "
                      "than the allocator's own steps."),
            *([chart] if chart is not None else []),
            Table("soak-memory", rows[0], tuple(rows[1:]), f"{measure} growth per interpreter under the soak")]


def terminal_fault_lines(a: Analysis) -> list[str]:
    """One line per crash and hang, and the soak's growth: what the terminal shows before the decision."""
    safety = a.summary.safety
    lines: list[str] = []
    if safety is not None:
        lines += [f"crash: {crash_sentence(c)}" for c in safety.crashes]
        lines += [f"hang: {hang_sentence(h)}" for h in safety.hangs]
    lines += [f"memory under the soak: {growth_sentence(g)}" for g in a.memory]
    return lines
