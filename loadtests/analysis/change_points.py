"""Steps in a series of runs of the same configuration: the rule ``gil-lab history`` flags them with.

Each run contributes one estimate of a series, on the log scale: the log of its
throughput or of its paired ratio, with the standard error *between runs* that its
server instances give and its degrees of freedom (``analysis.run_change``): the run is
the unit, never its windows. Walking the runs oldest first:

1. the *reference* is every run since the last step, pooled: the mean of their
   estimates. Its 95% interval is the t interval from their standard errors, widened
   to the t interval of the runs' own spread when the runs disagree more than their
   errors say;
2. a run whose 95% interval does not overlap the reference's interval is a
   *candidate*, above or below;
3. a candidate is a *step* when the next run is a candidate on the same side against
   the same reference; the reference then restarts from those two runs;
4. a candidate the next run does not confirm is an outlier and stays out of the
   reference; the newest run can only be an *unconfirmed* candidate.

Runs without an interval (a single unit) are left out. One noisy run never makes a step
on its own: a step is two runs in a row outside everything before them. Only runs of the
same controlled conditions make a series (``analysis.pooling``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from loadtests.analysis.stats import CONFIDENCE, t_quantile

Direction = Literal["up", "down"]


@dataclass(frozen=True)
class RunSample:
    """One run's estimate of one series: a mean, its standard error between runs and its degrees of freedom."""

    run_id: str
    mean: float
    se: float
    df: float

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """The Student-t interval of the estimate."""
        half = t_quantile(0.5 + confidence / 2.0, self.df) * self.se
        return self.mean - half, self.mean + half


def pooled(samples: Sequence[RunSample]) -> RunSample:
    """The runs' mean estimate, with the error of a mean of independent estimates (Welch-Satterthwaite df)."""
    k = len(samples)
    mean = math.fsum(s.mean for s in samples) / k
    variance = math.fsum(s.se**2 for s in samples) / k**2
    fourth = math.fsum(s.se**4 / s.df for s in samples) / k**4
    df = variance**2 / fourth if fourth > 0 else math.fsum(s.df for s in samples)
    return RunSample(f"{k} run(s)", mean, math.sqrt(variance), df)


@dataclass(frozen=True)
class Step:
    """A run whose interval left the reference's, and the run that confirmed it (None: not yet)."""

    run: RunSample
    direction: Direction
    reference: RunSample  # the reference runs pooled
    reference_interval: tuple[float, float]  # what the run's interval did not overlap
    reference_runs: tuple[str, ...]
    confirmed_by: str | None


def reference_interval(runs: Sequence[RunSample], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The pooled mean of ``runs`` with the wider of two t half-widths: from their errors, and over their means."""
    p = pooled(runs)
    half = t_quantile(0.5 + confidence / 2.0, p.df) * p.se
    if len(runs) >= 2:
        between = statistics.stdev(r.mean for r in runs) / math.sqrt(len(runs))
        half = max(half, t_quantile(0.5 + confidence / 2.0, len(runs) - 1) * between)
    return p.mean - half, p.mean + half


def _side(run: RunSample, reference: Sequence[RunSample]) -> int:
    """+1 when the run's interval is wholly above the reference's, -1 wholly below, 0 when they overlap."""
    low, high = run.interval()
    ref_low, ref_high = reference_interval(reference)
    return 1 if low > ref_high else -1 if high < ref_low else 0


def steps(samples: Sequence[RunSample]) -> list[Step]:
    """Every step of a series, oldest first (the last one may be unconfirmed)."""
    runs = [s for s in samples if s.df > 0 and s.se >= 0 and math.isfinite(s.se)]
    found: list[Step] = []
    reference = runs[:1]
    i = 1
    while i < len(runs):
        side = _side(runs[i], reference)
        if side == 0:
            reference.append(runs[i])
        elif i + 1 == len(runs) or _side(runs[i + 1], reference) == side:
            confirmed = runs[i + 1].run_id if i + 1 < len(runs) else None
            found.append(Step(runs[i], "up" if side > 0 else "down", pooled(reference),
                              reference_interval(reference), tuple(r.run_id for r in reference), confirmed))
            reference = runs[i:i + 2]  # the new level: the step's run and the one that confirmed it
            i += 1
        i += 1
    return found
