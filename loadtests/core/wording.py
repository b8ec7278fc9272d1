"""How figures read: an interval, a mean with its uncertainty, a ratio and its verdict.

The short formats every text of the lab shares, whoever writes the text: the claims and
the diagnosis word their evidence with them, and every renderer prints its tables with
them. They take anything shaped like a figure (the protocols below), so this module
knows no statistics and imports nothing of the lab.
"""

from __future__ import annotations

import math
from typing import Protocol


class RatioEstimate(Protocol):
    """What wording needs of a ratio: a ratio of two means, or a paired ratio."""

    @property
    def ratio(self) -> float: ...
    @property
    def low(self) -> float | None: ...
    @property
    def high(self) -> float | None: ...
    @property
    def confidence(self) -> float: ...
    @property
    def has_interval(self) -> bool: ...
    @property
    def significant(self) -> bool | None: ...


class MeanEstimate(Protocol):
    """A mean and the half-width of its interval (None without one)."""

    @property
    def mean(self) -> float: ...
    @property
    def half_width(self) -> float | None: ...


def verdict(s: RatioEstimate) -> str:
    """``"1.93× faster"``, ``"1.20× slower"`` or ``"not significant"``.

    Without an interval (n == 1) the ratio is given with that caveat attached.
    """
    if s.ratio == 0:
        return "no throughput"
    if s.significant is False:
        return "not significant"
    word = f"{s.ratio:.2f}× faster" if s.ratio >= 1 else f"{1 / s.ratio:.2f}× slower"
    if not s.has_interval:
        return f"{word} (n=1, no interval)"
    return word


def format_interval(low: float | None, high: float | None, digits: int = 2) -> str:
    """``"1.85–2.01"``, ``"0.90–∞"`` or ``"no interval (n=1)"``."""
    if low is None or high is None:
        return "no interval (n=1)"
    hi = "∞" if math.isinf(high) else f"{high:.{digits}f}"
    return f"{low:.{digits}f}–{hi}"


def format_speedup(s: RatioEstimate) -> str:
    """``"1.93× (95% CI 1.85–2.01)"``: the ratio itself, whatever the verdict."""
    if not s.has_interval:
        return f"{s.ratio:.2f}× (n=1, no interval)"
    return f"{s.ratio:.2f}× ({s.confidence:.0%} CI {format_interval(s.low, s.high)})"


def format_mean_ci(m: MeanEstimate, digits: int = 1, unit: str = "") -> str:
    """``"12.4 ± 0.3"`` (half-width of the CI) or ``"12.4 (n=1)"``."""
    suffix = f" {unit}" if unit else ""
    if m.half_width is None:
        return f"{m.mean:.{digits}f}{suffix} (n=1)"
    return f"{m.mean:.{digits}f} ± {m.half_width:.{digits}f}{suffix}"
