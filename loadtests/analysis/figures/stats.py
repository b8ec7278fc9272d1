"""A mean with its interval, a ratio of two means, a paired ratio: the figures every statistic returns."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.core.errors import ResultsError

CONFIDENCE = 0.95
#: Valid pairs of the two-stage rule's pilot, whose spread fixes the number of pairs (and the fewest any adaptive
#: comparison measures).
PILOT_PAIRS = 6


class InsufficientData(ResultsError, ValueError):
    """A statistic was asked of data that cannot support it (empty, zero, not finite).

    A failed measurement must surface as an error, never as a silent zero.
    """


@dataclass(frozen=True)
class MeanCI:
    """A mean over repeats with its confidence interval (``low``/``high`` are None when n == 1)."""

    mean: float
    low: float | None
    high: float | None
    n: int
    stdev: float | None
    confidence: float = CONFIDENCE

    @property
    def half_width(self) -> float | None:
        """The t half-width ``high - mean`` (unchanged when ``low`` was raised to a floor)."""
        return None if self.high is None else self.high - self.mean

    @property
    def has_interval(self) -> bool:
        return self.low is not None


class RatioInterval:
    """What a ratio's interval says, for any record with ``low`` and ``high`` (None without an interval)."""

    low: float | None
    high: float | None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def significant(self) -> bool | None:
        """True when the interval excludes 1; None when there is no interval to judge."""
        if self.low is None or self.high is None:
            return None
        return not (self.low <= 1.0 <= self.high)

    @property
    def direction(self) -> str:
        """``faster`` or ``slower`` (the interval excludes 1), ``not significant``, or ``unknown`` (no interval)."""
        significant = self.significant
        if significant is None:
            return "unknown"
        if not significant:
            return "not significant"
        return "faster" if self.ratio > 1 else "slower"  # type: ignore[attr-defined]  # each subclass has a ratio


@dataclass(frozen=True)
class Speedup(RatioInterval):
    """``candidate / baseline`` of two means, with a Fieller interval when both sides have n >= 2.

    ``low``/``high`` are None when there is no interval (n == 1 on a side); ``high`` is
    ``math.inf`` when the baseline is too noisy to bound the ratio.
    """

    ratio: float
    low: float | None
    high: float | None
    n_candidate: int
    n_baseline: int
    confidence: float = CONFIDENCE


@dataclass(frozen=True)
class PairedRatio(RatioInterval):
    """``candidate / baseline`` over paired blocks, with its interval on the log scale."""

    ratio: float  # geometric mean of the per-pair ratios
    low: float | None  # None with a single pair: no interval
    high: float | None
    n_pairs: int
    log_sd: float | None  # standard deviation of the log ratios
    confidence: float = CONFIDENCE
    df: float | None = None  # degrees of freedom of the interval (None: n_pairs - 1, or no interval)
    instances: int = 1  # server instances the pairs came from
    within_sd: float | None = None  # log SD between pairs of one instance
    between_sd: float | None = None  # log SD of the instance effect (None with one instance)

    @property
    def degrees_of_freedom(self) -> float | None:
        if self.low is None:
            return None
        return self.df if self.df is not None else float(self.n_pairs - 1)

    @property
    def precision(self) -> float | None:
        """The interval's half-width relative to the ratio (0.05 = ±5%); None without an interval."""
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2.0 / self.ratio

    def reached(self, target: float) -> bool:
        p = self.precision
        return p is not None and p <= target
