"""Does a server's memory grow under a steady load? The soak's readings fitted after the allocator's plateau.

**What is fitted.** The anonymous resident memory of the server's tree (``RssAnon``: its
heap and thread stacks) against the requests it had completed, in MB per 1,000
requests. Counting requests, not seconds, makes the two interpreters comparable though
they serve at different rates, and says what a leak costs per unit of work. USS and PSS
are recorded too, but another process that maps the same libraries moves them (by 10 MB
and more on a busy machine) without the server doing anything; where RssAnon is missing
the fit falls back to USS and says so.

**The plateau.** Any server's memory first climbs while its allocator fills arenas, its
threads start and its caches warm up. The plateau starts at the knee of a two-segment
(hinge) least-squares fit searched between 5% and 50% of the soak, and never before
:data:`MIN_PLATEAU_SHARE` of the soak: a slow approach to the plateau (3.14t's
per-thread heaps fill one by one) still looks like growth in the first minute.

**The interval.** Readings half a second apart are strongly autocorrelated: memory
moves in steps (an arena, a page of a thread's heap) and stays, so neighbours share
their error. An ordinary least-squares interval over those readings treats hundreds of
them as independent and comes out several times too narrow. The readings after the
plateau are cut into :data:`BLOCKS` consecutive blocks of equal size; each block's mean
memory and mean request count is one point, and the slope is the least-squares slope
through those points, with a Student t interval on ``BLOCKS - 2`` degrees of freedom.
Block means are close to independent once a block outlasts the steps' memory, and the
few degrees of freedom make the interval honest about how little a short soak shows.

**Grows** only when the whole 95% interval lies above zero, and its lower end, over the
requests after the plateau, adds up to at least :data:`GROWTH_FLOOR_MB`. Memory moves in
steps, and a single step inside the fitted part (an arena taken, or given back) is a
trend to any regression, with a narrow interval: a 2-minute soak of examples/bookshop
gives 3.14t an interval of about +1.5 to +3.9 MB per 1,000 requests from a creep of 1 to
2 MB as its per-thread heaps fill, and 3.14 one entirely below zero from a single 0.5 MB
step down. A leak adds up: the longer the soak, the smaller the leak it can tell from
those steps. A soak too short to leave two readings per block after the plateau gives
no slope and no verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.analysis.stats import t_quantile
from loadtests.results.records.soak import SoakPoint, SoakSeries

BLOCKS = 6
MIN_PLATEAU_SHARE = 1 / 3  # the fit never starts before this share of the soak
KNEE_RANGE = (0.1, 0.6)  # where the hinge's knee is searched, as shares of the soak
#: Growth smaller than this over the fitted part is within one or two of an allocator's steps (an arena, a
#: segment of a thread's heap): the interval's low end must add up to more before memory "grows".
GROWTH_FLOOR_MB = 4.0


def _measure(points: Sequence[SoakPoint]) -> tuple[str, list[tuple[float, int, float]]]:
    """``(measure, [(t, requests, MB)])``: RssAnon where every reading has it, else USS, else RSS."""
    if points and all(p.anon_mb is not None for p in points):
        return "RssAnon", [(p.t, p.requests, float(p.anon_mb or 0.0)) for p in points]
    if points and all(p.uss_mb is not None for p in points):
        return "USS", [(p.t, p.requests, float(p.uss_mb or 0.0)) for p in points]
    return "RSS", [(p.t, p.requests, p.rss_mb) for p in points]


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """``(intercept, slope, residual sum of squares)`` of a straight line through the points."""
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    slope = 0.0 if sxx == 0 else math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    return intercept, slope, math.fsum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))


def _hinge_sse(xs: Sequence[float], ys: Sequence[float], knee: float) -> float:
    """Residual sum of squares of the continuous two-segment fit with its knee at ``knee``."""
    # y = a + b x + c max(x - knee, 0): solve the 3x3 normal equations.
    cols = [[1.0] * len(xs), list(xs), [max(x - knee, 0.0) for x in xs]]
    gram = [[math.fsum(u * v for u, v in zip(a, b, strict=True)) for b in cols] for a in cols]
    rhs = [math.fsum(u * y for u, y in zip(a, ys, strict=True)) for a in cols]
    beta = _solve(gram, rhs)
    if beta is None:
        return math.inf
    return math.fsum((y - sum(bi * col[i] for bi, col in zip(beta, cols, strict=True))) ** 2
                     for i, y in enumerate(ys))


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None for a singular system."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - math.fsum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


def plateau_index(ts: Sequence[float], ys: Sequence[float]) -> int:
    """The first reading of the plateau: the hinge's knee, and never before MIN_PLATEAU_SHARE of the soak."""
    end = ts[-1]
    candidates = [i for i, t in enumerate(ts) if KNEE_RANGE[0] * end <= t <= KNEE_RANGE[1] * end]
    knee = min(candidates, key=lambda i: _hinge_sse(ts, ys, ts[i]), default=0)
    floor = next((i for i, t in enumerate(ts) if t >= MIN_PLATEAU_SHARE * end), len(ts))
    return max(knee, floor)


def block_slope(xs: Sequence[float], ys: Sequence[float], blocks: int = BLOCKS) -> tuple[float, float, float] | None:
    """The slope through ``blocks`` block means and its 95% t interval (``blocks - 2`` df); None with too few."""
    size = len(xs) // blocks
    if size < 2:
        return None
    mx = [math.fsum(xs[i * size:(i + 1) * size]) / size for i in range(blocks)]
    my = [math.fsum(ys[i * size:(i + 1) * size]) / size for i in range(blocks)]
    _, slope, sse = least_squares(mx, my)
    centre = math.fsum(mx) / blocks
    sxx = math.fsum((x - centre) ** 2 for x in mx)
    if sxx == 0:
        return None
    half = t_quantile(0.975, blocks - 2) * math.sqrt(sse / (blocks - 2) / sxx)
    return slope, slope - half, slope + half


def memory_growth(series: SoakSeries) -> MemoryGrowth:
    """The growth of one interpreter's server through the soak (module docstring)."""
    measure, rows = _measure(series.points)
    readings = tuple((t, mb) for t, _, mb in rows)
    threads = [p.threads for p in series.points]
    empty = MemoryGrowth(interpreter=series.interpreter, measure=measure, requests=series.requests,
                         slope_mb_per_1000=None, ci_low=None, ci_high=None, grows=False, plateau_s=None,
                         plateau_mb=None, end_mb=rows[-1][2] if rows else None,
                         threads_start=threads[0] if threads else None, threads_end=threads[-1] if threads else None,
                         readings=readings, fitted=())
    if len(rows) < 4 * BLOCKS:
        why = series.error or (f"the server died after {series.seconds:.0f}s" if series.crash else
                               f"{len(rows)} readings: too few for a trend")
        return _with(empty, why)
    ts, ys = [r[0] for r in rows], [r[2] for r in rows]
    start = plateau_index(ts, ys)
    after = rows[start:]
    xs = [r[1] / 1000.0 for r in after]
    fit = block_slope(xs, [r[2] for r in after])
    if fit is None or xs[-1] <= xs[0]:
        return _with(empty, "too few requests after the plateau for a trend")
    slope, low, high = fit
    # The fitted line through the centre of the readings after the plateau, drawn from its first to its last.
    centre_x, centre_y = math.fsum(xs) / len(xs), math.fsum(r[2] for r in after) / len(after)
    line = ((after[0][0], centre_y + slope * (xs[0] - centre_x)), (after[-1][0], centre_y + slope * (xs[-1] - centre_x)))
    return MemoryGrowth(interpreter=series.interpreter, measure=measure, requests=series.requests,
                        slope_mb_per_1000=round(slope, 4), ci_low=round(low, 4), ci_high=round(high, 4),
                        grows=low > 0 and low * (xs[-1] - xs[0]) >= GROWTH_FLOOR_MB, plateau_s=round(after[0][0], 1), plateau_mb=round(after[0][2], 2),
                        end_mb=round(rows[-1][2], 2), threads_start=series.points[start].threads,
                        threads_end=series.points[-1].threads, readings=readings,
                        fitted=tuple((round(t, 2), round(mb, 2)) for t, mb in line))


def _with(growth: MemoryGrowth, why: str) -> MemoryGrowth:
    return replace(growth, why_unknown=why)
