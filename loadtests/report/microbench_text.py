"""``gil-lab threads`` as a terminal table, with the notes a reader needs to trust it."""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.microbench import MicrobenchFigures
from loadtests.core.text import text_table


def _fmt_ci(ci: Sequence[float] | None, digits: int) -> str:
    return f"{ci[0]:.{digits}f}–{ci[1]:.{digits}f}" if ci else "n<2"


def _fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def render_microbench(figures: MicrobenchFigures) -> str:
    """ops/s, speedup over 1 thread and efficiency per workload, variant and thread count."""
    section, cores = figures.section, figures.usable_cores
    rows: list[tuple[str, ...]] = [("workload", "variant", "threads", "ops/s", "95% CI", "speedup vs 1", "95% CI",
                                    "efficiency", "CPU cores used")]
    for r in figures.rows:
        rows.append((r.workload, r.variant, str(r.threads), _fmt(r.ops_per_s, "{:.1f}"), _fmt_ci(r.ops_per_s_ci, 1),
                     _fmt(r.speedup, "{:.2f}×"), _fmt_ci(r.speedup_ci, 2), _fmt(r.efficiency, "{:.2f}"),
                     _fmt(r.cpu_cores, "{:.2f}")))
    notes = [f"{cores} usable core(s): no speedup can exceed {cores}×; efficiency = speedup ÷ min(threads, cores)."]
    if figures.noisy:
        notes.append(f"warning: other processes used {section.others_cores:.2f} of the {cores} cores while the "
                     "benchmark ran, so these figures are noisy (wide intervals).")
    for workload, s in figures.single_thread:
        notes.append(f"{workload}: one thread on 3.14t runs at {s.ratio:.2f}× the speed of 3.14 ({s.ratio - 1:+.1%}).")
    invalid = [p for p in section.points if not p.valid]
    if invalid:
        notes.append(f"{len(invalid)} invalid point(s), excluded: "
                     + "; ".join(sorted({f"{p.variant}: {p.invalid_reason}" for p in invalid})))
    return "\n".join(text_table(rows) + [""] + notes) + "\n"
