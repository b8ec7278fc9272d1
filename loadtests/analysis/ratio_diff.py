"""How a paired ratio moved between two runs: 3.14t/3.14 of run B against run A's.

Each run's paired ratio is a geometric mean of per-block ratios with a t interval on
their logs (``analysis.paired``). The two runs are independent, so the change
``ratio_B / ratio_A`` is a difference of two log means: its interval is Welch's, from
each run's log standard deviation and pair count. Such a change shows when one
interpreter moved and the other did not; it is reported beside the throughput diff and
does not gate (docs/ci.md says why).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from loadtests.analysis.figures.configs import Comparison
from loadtests.analysis.figures.diff import RatioDiff
from loadtests.analysis.figures.stats import CONFIDENCE, PairedRatio
from loadtests.analysis.stats import t_quantile
from loadtests.analysis.summary import KINDS


def change_interval(a: PairedRatio, b: PairedRatio, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """The interval of ``b.ratio / a.ratio``: Welch's t on the difference of the log means."""
    if a.log_sd is None or b.log_sd is None:
        return None, None
    va, vb = a.log_sd**2 / a.n_pairs, b.log_sd**2 / b.n_pairs
    centre = math.log(b.ratio / a.ratio)
    if va + vb == 0.0:
        return math.exp(centre), math.exp(centre)
    df = (va + vb) ** 2 / ((va**2 / (a.n_pairs - 1) if va else 0.0) + (vb**2 / (b.n_pairs - 1) if vb else 0.0))
    half = t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(va + vb)
    return math.exp(centre - half), math.exp(centre + half)


def _paired(comps: Iterable[Comparison]) -> dict[tuple[str, str, str], Comparison]:
    return {(c.kind, c.candidate.config_id, c.baseline.config_id): c for c in comps
            if isinstance(c.speedup, PairedRatio)}


def ratio_diffs(a: Iterable[Comparison], b: Iterable[Comparison]) -> list[RatioDiff]:
    """Every comparison paired in both runs (same kind and the same two config_ids), in run A's order."""
    in_b = _paired(b)
    out = []
    for key, ca in _paired(a).items():
        cb = in_b.get(key)
        if cb is None:
            continue
        ra, rb = ca.speedup, cb.speedup
        assert isinstance(ra, PairedRatio) and isinstance(rb, PairedRatio)
        low, high = change_interval(ra, rb)
        out.append(RatioDiff(KINDS[ca.kind], ca.scenario, ca.server, ca.users, ca.candidate.label, ca.baseline.label,
                             ra, rb, rb.ratio / ra.ratio, low, high))
    return out
