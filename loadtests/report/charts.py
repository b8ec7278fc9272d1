"""Report charts with matplotlib (Agg): each function returns a Figure, the caller encodes it.

Every axis names its quantity and unit. Colours are fixed per configuration kind so
that 3.14, 3.14t, the N-process baseline and PYTHON_GIL=1 look the same in every chart.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from loadtests.analysis.figures.capacity import CapacityCurve, Projection  # noqa: E402
from loadtests.analysis.figures.configs import ConfigSummary, Sweep  # noqa: E402
from loadtests.analysis.figures.memory import MemoryGrowth  # noqa: E402
from loadtests.analysis.figures.microbench import MicrobenchRow  # noqa: E402
from loadtests.analysis.figures.stats import MeanCI  # noqa: E402

COLOURS = {"3.14": "#4c72b0", "3.14t": "#dd8452", "processes": "#55a868", "gil1": "#8c8c8c"}
WIDTH_IN = 9.0


def colour(c: ConfigSummary) -> str:
    if c.python_gil_env == "1":
        return COLOURS["gil1"]
    if c.parallelism == "processes" and c.interpreter == "3.14":
        return COLOURS["processes"]
    return COLOURS.get(c.interpreter, "#937860")


def _grid(n: int, cols: int = 2, row_h: float = 3.0) -> tuple[Figure, list]:
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH_IN, row_h * rows + 0.6), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def top_users(configs: Sequence[ConfigSummary], scenario: str) -> list[ConfigSummary]:
    """The configurations of ``scenario`` at the highest users level with a valid figure."""
    mine = [c for c in configs if c.scenario == scenario and c.rps is not None]
    if not mine:
        return []
    top = max(c.users for c in mine)
    return [c for c in mine if c.users == top]


def _bars_per_scenario(configs: Sequence[ConfigSummary], scenarios: Sequence[str],
                       value: Callable[[ConfigSummary], MeanCI | None], xlabel: str, whiskers: bool) -> Figure | None:
    """One panel per scenario: a horizontal bar per configuration at its top users level."""
    scen = [s for s in scenarios if any(value(c) for c in top_users(configs, s))]
    if not scen:
        return None  # no scenario has a valid configuration
    fig, axes = _grid(len(scen), row_h=0.5 + 0.42 * max((len(top_users(configs, s)) for s in scen), default=1))
    for ax, s in zip(axes, scen, strict=True):
        cs = [c for c in top_users(configs, s) if value(c)]
        figures = [value(c) for c in cs]
        means = [f.mean for f in figures if f]
        err = None
        if whiskers:
            err = [[f.mean - f.low if f and f.low is not None else 0 for f in figures],
                   [f.high - f.mean if f and f.high is not None else 0 for f in figures]]
        ax.barh(range(len(cs)), means, xerr=err, color=[colour(c) for c in cs], capsize=3)
        ax.set_yticks(range(len(cs)), [c.label for c in cs], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_ylabel("configuration")
        ax.set_title(f"{s} — {cs[0].users} users", fontsize=10)
    fig.tight_layout()
    return fig


def throughput_chart(configs: Sequence[ConfigSummary], scenarios: Sequence[str]) -> Figure | None:
    """Horizontal bars of mean rps with 95% CI whiskers, per scenario at its top users level."""
    return _bars_per_scenario(configs, scenarios, lambda c: c.rps, "throughput (requests/s)", whiskers=True)


def scaling_chart(sweeps: Sequence[Sweep]) -> Figure | None:
    """One row per (scenario, swept axis): rps, and speedup over the first point with the ideal line."""
    groups: dict[tuple[str, str], list[Sweep]] = {}
    for sw in sweeps:
        groups.setdefault((sw.scenario, sw.axis), []).append(sw)
    if not groups:
        return None
    fig, axes = plt.subplots(len(groups), 2, figsize=(WIDTH_IN, 3.0 * len(groups) + 0.6), squeeze=False)
    for (ax_rps, ax_sp), ((scenario, axis), group) in zip(axes, groups.items(), strict=True):
        xs_all: set[int] = set()
        ideals: dict[tuple[tuple[int, float], ...], None] = {}
        for sw in group:
            xs = [sw.x(c) for c in sw.points]
            xs_all.update(xs)
            style = "--" if sw.points[0].parallelism == "processes" else "-"
            rps = [c.rps for c in sw.points if c.rps is not None]
            err = [[m.mean - m.low if m.low is not None else 0.0 for m in rps],
                   [m.high - m.mean if m.high is not None else 0.0 for m in rps]]
            ax_rps.errorbar(xs, [m.mean for m in rps], yerr=err, fmt=style, marker="o", capsize=3,
                            color=colour(sw.points[0]), label=sw.label)
            ax_sp.plot(xs, [sw.speedup(c) for c in sw.points], style, marker="o", color=colour(sw.points[0]),
                       label=sw.label)
            ideals[tuple((sw.x(c), sw.ideal(c)) for c in sw.points)] = None
        for k, line in enumerate(ideals):
            ax_sp.plot([x for x, _ in line], [y for _, y in line], ":", color="black",
                       label=f"ideal ({group[0].usable_cores} usable cores)" if k == 0 else None)
        ticks = sorted(xs_all)
        for ax in (ax_rps, ax_sp):
            if ticks[-1] / max(ticks[0], 1) >= 4:
                ax.set_xscale("log", base=2)
            ax.set_xticks(ticks, [str(x) for x in ticks])
            ax.set_xlabel(group[0].axis_label)
        ax_rps.set_ylabel("throughput (requests/s)")
        ax_sp.set_ylabel(f"speedup vs {ticks[0]} {axis} (×)")
        ax_rps.set_title(f"{scenario}: throughput vs {axis}", fontsize=10)
        ax_sp.set_title(f"{scenario}: speedup vs {axis}, and the ideal", fontsize=10)
        ax_rps.legend(fontsize=7)
        ax_sp.legend(fontsize=7)
    fig.tight_layout()
    return fig


def microbench_chart(summary: Sequence[MicrobenchRow], usable_cores: int) -> Figure | None:
    """Per workload: speedup of N threads over 1 for each variant, with the cores-bounded ideal.

    ``summary`` comes from ``microbench_stats.summarize``: invalid points are already out.
    """
    workloads = list(dict.fromkeys(r.workload for r in summary))
    if not workloads:
        return None
    fig, axes = _grid(len(workloads), cols=3)
    palette = {"3.14": COLOURS["3.14"], "3.14t": COLOURS["3.14t"], "3.14t+PYTHON_GIL=1": COLOURS["gil1"]}
    for ax, w in zip(axes, workloads, strict=True):
        rows = [r for r in summary if r.workload == w]
        threads = sorted({r.threads for r in rows})
        for variant in dict.fromkeys(r.variant for r in rows):
            line = [(r.threads, r.speedup, r.speedup_ci) for r in rows if r.variant == variant and r.speedup is not None]
            if not line:
                continue
            low = [s - ci[0] if ci else 0.0 for _, s, ci in line]
            high = [min(ci[1], 1e6) - s if ci else 0.0 for _, s, ci in line]
            ax.errorbar([n for n, _, _ in line], [s for _, s, _ in line], yerr=[low, high], marker="o", capsize=3,
                        label=variant, color=palette.get(variant, "#937860"))
        ax.plot(threads, [min(n, usable_cores) for n in threads], ":", color="black",
                label=f"ideal ({usable_cores} cores)")
        ax.set_xticks(threads, [str(n) for n in threads])
        ax.set_xlabel("threads (count)")
        ax.set_ylabel("speedup vs 1 thread (×)")
        ax.set_title(f"microbench: {w}", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def latency_chart(configs: Sequence[ConfigSummary], scenarios: Sequence[str], slo_ms: float) -> Figure | None:
    """Grouped p50/p95/p99 bars per configuration at each scenario's top users level."""
    scen = [s for s in scenarios if top_users(configs, s)]
    if not scen:
        return None  # no scenario has a valid configuration
    fig, axes = _grid(len(scen), row_h=3.4)
    for ax, s in zip(axes, scen, strict=True):
        cs = [c for c in top_users(configs, s) if c.p50 and c.p95 and c.p99]
        width = 0.27
        for i, (name, alpha) in enumerate((("p50", 1.0), ("p95", 0.7), ("p99", 0.45))):
            vals = [getattr(c, name).mean for c in cs]
            ax.bar([x + (i - 1) * width for x in range(len(cs))], vals, width, alpha=alpha,
                   color=[colour(c) for c in cs], label=name, edgecolor="black", linewidth=0.3)
        ax.axhline(slo_ms, color="red", linestyle="--", linewidth=1, label=f"SLO {slo_ms:g} ms")
        ax.set_xticks(range(len(cs)), [c.label for c in cs], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("latency (ms)")
        ax.set_xlabel("configuration")
        ax.set_title(f"{s} — {cs[0].users if cs else '?'} users: p50 / p95 / p99", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def memory_chart(configs: Sequence[ConfigSummary], scenarios: Sequence[str]) -> Figure | None:
    """Peak RSS of the server process tree per configuration at each scenario's top users level."""
    measure = next((c.memory_measure for c in configs if c.memory_mb), "RSS")
    return _bars_per_scenario(configs, scenarios, lambda c: c.memory_mb, f"peak {measure}, all server processes (MB)",
                              whiskers=False)


def projection_chart(projections: Sequence[Projection]) -> Figure | None:
    """Measured points and fitted models out to the projected core counts (labelled PROJECTION)."""
    ok = [p for p in projections if p.ok]
    if not ok:
        return None
    fig, axes = _grid(len(ok))
    for ax, p in zip(axes, ok, strict=True):
        xs = [n for n, _ in p.points]
        top = max(max(p.cores), max(xs))
        grid = [1 + (top - 1) * i / 100 for i in range(101)]
        ax.scatter(xs, [y for _, y in p.points], color="black", zorder=3, label="measured")
        for f, style in zip(p.fits, ("-", "--"), strict=False):
            ax.plot(grid, [f.predict(n) for n in grid], style, label=f.describe)
        ax.axvspan(max(xs), top, color="#f2f2f2", zorder=0)
        ax.text(max(xs), ax.get_ylim()[1] * 0.95, " PROJECTION", fontsize=8, va="top", color="#555555")
        ax.set_xlabel("cores (count)")
        ax.set_ylabel(f"throughput ({'requests/s' if p.unit == 'rps' else p.unit})")
        ax.set_title(p.source, fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def capacity_curve_chart(curves: Sequence[CapacityCurve]) -> Figure | None:
    """Per scenario and server: every step's p95 from the intended send with its 95% bound (top), and its share of
    arrivals over the SLO with the fitted curve (bottom); each capacity is a dotted line inside its shaded interval.

    Filled markers were under the SLO, hollow ones over it; crosses were invalid windows (no part of the fit).
    """
    groups: dict[tuple[str, str], list[CapacityCurve]] = {}
    for c in curves:
        groups.setdefault((c.scenario, c.server), []).append(c)
    if not groups:
        return None
    fig, axes = plt.subplots(2 * len(groups), 1, figsize=(WIDTH_IN, 5.6 * len(groups) + 0.4), squeeze=False,
                             sharex=False)
    palette = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3"]
    for index, ((scenario, server), group) in enumerate(groups.items()):
        top, bottom = axes[2 * index][0], axes[2 * index + 1][0]
        for i, c in enumerate(group):
            color = palette[i % len(palette)]
            name = c.label + ("" if c.phase == "search" else f" ({c.phase})")
            valid = [s for s in c.steps if s.valid]
            for ax, value, low, high in ((top, "p95_ms", "p95_low_ms", "p95_high_ms"),
                                         (bottom, "share", "share_low", "share_high")):
                shown = [s for s in valid if getattr(s, value) is not None]
                ys = [getattr(s, value) for s in shown]
                lows = [y - (getattr(s, low) if getattr(s, low) is not None else y) for s, y in zip(shown, ys, strict=True)]
                ceiling = max(ys, default=1.0) * 1.5
                highs = [(getattr(s, high) if getattr(s, high) is not None else ceiling) - y
                         for s, y in zip(shown, ys, strict=True)]
                ax.errorbar([s.rate for s in shown], ys, yerr=[lows, highs], fmt="none", ecolor=color, alpha=0.5,
                            capsize=2, linewidth=0.8)
                ax.scatter([s.rate for s in shown if s.passed], [getattr(s, value) for s in shown if s.passed],
                           color=color, zorder=3, s=18, label=name if ax is top else None)
                ax.scatter([s.rate for s in shown if not s.passed], [getattr(s, value) for s in shown if not s.passed],
                           facecolors="none", edgecolors=color, zorder=3, s=18)
                bad = [s for s in c.steps if not s.valid]
                if bad and ax is top:
                    ax.scatter([s.rate for s in bad], [c.slo_ms] * len(bad), marker="x", color=color, zorder=3, s=18)
                if c.capacity is not None:
                    ax.axvline(c.capacity, color=color, linestyle=":", linewidth=1)
                    if c.ci_low is not None and c.ci_high is not None:
                        ax.axvspan(c.ci_low, c.ci_high, color=color, alpha=0.08)
            if c.fitted:
                bottom.plot([r for r, _ in c.fitted], [p for _, p in c.fitted], "-", color=color, linewidth=1.2,
                            label=f"{name}: fitted")
        top.axhline(group[0].slo_ms, color="red", linestyle="--", linewidth=1, label=f"SLO {group[0].slo_ms:g} ms")
        top.set_yscale("log")
        top.set_ylabel("p95 from the intended send (ms)")
        top.set_title(f"{scenario} on {server}: p95 against offered load (each step with its 95% bound)", fontsize=9)
        top.legend(fontsize=7)
        bottom.axhline(0.05, color="red", linestyle="--", linewidth=1, label="5% over the SLO (p95 = SLO)")
        bottom.set_ylim(0.0, min(1.0, max((s.share_high or s.share or 0.0 for c in group for s in c.steps
                                           if s.valid and s.share is not None), default=0.2) * 1.1 + 0.02))
        bottom.set_ylabel("share of arrivals over the SLO")
        bottom.set_title(f"{scenario} on {server}: share over the SLO, the fitted curve, the capacity (dotted) and "
                         "its 95% interval (shaded)", fontsize=9)
        bottom.legend(fontsize=7)
        for ax in (top, bottom):
            ax.set_xlabel("offered load (requests/s, open loop)")
    fig.tight_layout()
    return fig


# --- encoding -------------------------------------------------------------------------

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prologue, no external references).

    ``svg.hashsalt`` makes element ids deterministic and distinct between charts that
    share one HTML page.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        # no RDF metadata block: the page stays free of any URL but the SVG namespaces
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _PROLOGUE.sub("", buf.getvalue(), count=1)


def save_png(fig: Figure, path: Path, dpi: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
    return path


def close(fig: Figure) -> None:
    plt.close(fig)


def soak_chart(growths: Sequence[MemoryGrowth]) -> Figure | None:
    """Memory over the soak, both interpreters on one axis: the readings, where the plateau starts, the fitted line."""
    shown = [g for g in growths if g.readings]
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.4))
    for g in shown:
        tint = COLOURS.get(g.interpreter, "#937860")
        ax.plot([t for t, _ in g.readings], [mb for _, mb in g.readings], color=tint, linewidth=1.2,
                label=f"{g.interpreter} ({g.measure})")
        if g.plateau_s is not None:
            ax.axvline(g.plateau_s, color=tint, linestyle=":", linewidth=1)
        if g.fitted:
            ax.plot([t for t, _ in g.fitted], [mb for _, mb in g.fitted], color="#222222", linestyle="--",
                    linewidth=1)
    ax.set_xlabel("time into the soak (s)")
    ax.set_ylabel(f"{shown[0].measure} of the server (MB)")
    ax.set_title("Memory under the soak's steady load: dotted, where each plateau starts; dashed, the fitted growth",
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
