"""The forest plot of a scenario card: each comparison's ratio, its interval and what the cores allow.

One row per comparison (3.14t against 3.14 per server, and against 3.14 with N worker
processes): a dot at the ratio, a bar over its 95% interval, a tick at the pair's
ideal (the cores the candidate could use ÷ the cores the baseline used), a solid line
at 1× (no change) and a dotted line at the usable cores, the most any speedup on
this machine can reach. The ratio axis is logarithmic, as the intervals are computed
on the log scale: 0.5× and 2× sit equally far from 1×.

The figure is narrow (a phone's width) so that its text stays readable when the page
is 420 px wide; ``fluid_svg`` drops the fixed size matplotlib writes, so the SVG
scales with its box.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullLocator

from loadtests.report.charts import COLOURS, plt

# 266 pt wide: in a 420 px page the plot gets about 360 px, so 9 pt text is drawn at 12 px
WIDTH_IN = 3.7
ROW_IN = 0.62
MAX_TICKS = 5  # more tick labels than this collide at a phone's width
FINE_TICKS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)  # for a narrow range, where powers of 2 give 2 ticks
CEILING_COLOUR = "#b03060"


@dataclass(frozen=True)
class ForestRow:
    """One comparison on the plot: ``ratio`` with its interval, and the ideal for that pair."""

    label: str  # e.g. "uvicorn vs 3.14"; the axis says the ratio is 3.14t ÷ baseline
    ratio: float
    low: float | None  # None: no interval (one pair or one repeat)
    high: float | None  # may be math.inf when the baseline was too noisy to bound the ratio
    ideal: float | None  # cores the candidate could use ÷ cores the baseline used, when known
    against_processes: bool = False


def format_row_value(row: ForestRow) -> str:
    """``1.93× (1.34–3.39)``, ``0.98× (no interval)``: what the plot writes beside the label."""
    if row.low is None or row.high is None:
        return f"{row.ratio:.2f}× (no interval)"
    high = "∞" if math.isinf(row.high) else f"{row.high:.2f}"
    return f"{row.ratio:.2f}× ({row.low:.2f}–{high})"


def _x_range(rows: Sequence[ForestRow], usable_cores: int) -> tuple[float, float]:
    """Every point, finite interval end, ideal, 1× and the usable cores, with a margin."""
    values = [1.0, float(usable_cores)]
    for r in rows:
        values += [v for v in (r.ratio, r.low, r.high, r.ideal) if v is not None and math.isfinite(v) and v > 0]
    return min(values) / 1.35, max(values) * 1.35


def _ticks(lo: float, hi: float) -> list[float]:
    """Powers of 2 in the range, every other one (or sparser) when that is too many, always with 1×;
    a range narrower than four powers of 2 gets 0.75×, 1.5× and 3× steps instead."""
    # a tick this close to either end would put half its label outside the figure
    margin = 0.06 * (math.log2(hi) - math.log2(lo))
    first, last = math.log2(lo) + margin, math.log2(hi) - margin
    exponents = range(math.ceil(first), math.floor(last) + 1)
    step = max(1, math.ceil(len(exponents) / MAX_TICKS))
    if len(exponents) < 4:
        return [t for t in FINE_TICKS if first <= math.log2(t) <= last]
    return [2.0 ** k for k in exponents if k % step == 0]


def _tick_label(v: float) -> str:
    """``2×``, ``0.75×``, and ``1/16×`` rather than ``0.0625×`` (a phone has no room for it)."""
    inverse = 1 / v
    return f"1/{inverse:g}×" if v < 1 and inverse.is_integer() else f"{v:g}×"


def forest_chart(rows: Sequence[ForestRow], usable_cores: int) -> Figure | None:
    """The plot, or None when there is no comparison to show."""
    if not rows:
        return None
    lo, hi = _x_range(rows, usable_cores)
    height = ROW_IN * len(rows) + 1.3
    fig = plt.figure(figsize=(WIDTH_IN, height))
    bottom = 1.0 / height  # inches kept below the axes for tick labels, axis label and legend
    ax = fig.add_axes((0.04, bottom, 0.92, 1 - bottom - 0.08 / height))
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(-len(rows) + 0.35, 0.75)
    ax.yaxis.set_major_locator(NullLocator())
    ticks = _ticks(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([_tick_label(t) for t in ticks], fontsize=9)
    ax.set_xlabel("ratio, 3.14t ÷ baseline throughput (×, log scale)", fontsize=9)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.axvline(1.0, color="#444444", linewidth=1.2, zorder=1)
    ax.axvline(usable_cores, color="#444444", linewidth=1.0, linestyle=":", zorder=1)
    for i, r in enumerate(rows):
        y = -i
        colour = COLOURS["processes"] if r.against_processes else COLOURS["3.14t"]
        ax.text(0.0, y + 0.3, f"{r.label}: {format_row_value(r)}", transform=ax.get_yaxis_transform(),
                fontsize=9, va="bottom", ha="left", zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})
        if r.low is not None and r.high is not None:
            high = min(r.high, hi)
            ax.plot([max(r.low, lo), high], [y, y], color=colour, linewidth=2.6, solid_capstyle="butt", zorder=2)
            if high < r.high:  # the interval runs off the plot: say so with an arrow head
                ax.plot([high], [y], marker=">", color=colour, markersize=7, zorder=2)
        ax.plot([r.ratio], [y], marker="o", markersize=7, color=colour, markeredgecolor="black", zorder=3)
        if r.ideal is not None and math.isfinite(r.ideal):
            ax.plot([r.ideal, r.ideal], [y - 0.22, y + 0.22], color=CEILING_COLOUR, linewidth=2.2, zorder=2)
    handles = [
        Line2D([], [], color="#777777", linewidth=2.6, marker="o", markeredgecolor="black", label="ratio, 95% CI"),
        Line2D([], [], color=CEILING_COLOUR, linewidth=2.2, label="ideal for the pair"),
        Line2D([], [], color="#444444", linewidth=1.2, label="1×: no change"),
        Line2D([], [], color="#444444", linewidth=1.0, linestyle=":", label=f"{usable_cores} usable cores"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0), handlelength=1.8, columnspacing=1.2)
    return fig


_ROOT_SIZE = re.compile(r'(<svg\b[^>]*?)\s+width="[^"]*"\s+height="[^"]*"')


def fluid_svg(svg: str, css_class: str = "fluid") -> str:
    """The SVG without the fixed width and height on its root: only its viewBox sizes it.

    The page's CSS then sets its width to the box it sits in, and the height follows from
    the viewBox's aspect ratio.
    """
    out, n = _ROOT_SIZE.subn(rf'\1 class="{css_class}"', svg, count=1)
    if n != 1 or "viewBox=" not in out.split(">", 1)[0]:
        raise ValueError("expected an <svg> root with width, height and a viewBox")
    return out
