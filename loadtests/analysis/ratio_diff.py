"""How a paired ratio moved between two runs: 3.14t/3.14 of run B against run A's.

Each run's paired ratio is a geometric mean of per-block ratios with a t interval on
their logs (``analysis.paired``). The two runs are independent, so the change
``ratio_B / ratio_A`` is a difference of two log means: its interval is Welch's, from
each run's interval (``analysis.run_change``). Such a change shows when one
interpreter moved and the other did not; it is reported beside the throughput diff and
does not gate (docs/ci.md says why).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from loadtests.analysis.figures.configs import Comparison
from loadtests.analysis.figures.diff import RatioDiff
from loadtests.analysis.figures.run_change import RunEstimate
from loadtests.analysis.figures.stats import CONFIDENCE, PairedRatio
from loadtests.analysis.run_change import compare, estimate_from_interval
from loadtests.analysis.summary import KINDS


def paired_estimate(r: PairedRatio, key: str = "", label: str = "") -> RunEstimate:
    """A paired ratio as a run-level estimate: its interval already holds the error between runs (a ratio
    stored without one, but with its pairs' spread, is read as pairs of one instance)."""
    if r.low is None and r.log_sd is not None and r.n_pairs >= 2:
        return RunEstimate(key, label, "paired ratio", "×", math.log(r.ratio), r.log_sd / math.sqrt(r.n_pairs),
                           r.n_pairs - 1.0, r.n_pairs)
    return estimate_from_interval(key, label, "paired ratio", "×", r.ratio, r.low, r.high, r.degrees_of_freedom,
                                  r.n_pairs, confidence=r.confidence)


def change_interval(a: PairedRatio, b: PairedRatio, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """The interval of ``b.ratio / a.ratio``: Welch's t on the difference of the logs."""
    change = compare(paired_estimate(a), paired_estimate(b), confidence)
    return change.low, change.high


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
