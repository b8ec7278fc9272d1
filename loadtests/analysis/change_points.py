"""Steps in a series of runs of the same configuration: the rule ``gil-lab history`` flags them with.

Each run contributes one sample summary of a series: n values (windows, or paired
blocks), their mean and standard deviation; for a paired ratio the values are log
ratios. Walking the runs oldest first:

1. the *reference* is every run since the last step, pooled into one sample (all their
   values together). Its 95% interval is the pooled mean's t interval, widened to the
   t interval of the runs' own means when those disagree more than their windows say:
   on a shared machine runs differ by more than the windows inside one run;
2. a run whose 95% interval does not overlap the reference's interval is a
   *candidate*, above or below;
3. a candidate is a *step* when the next run is a candidate on the same side against
   the same reference; the reference then restarts from those two runs;
4. a candidate the next run does not confirm is an outlier and stays out of the
   reference; the newest run can only be an *unconfirmed* candidate.

Runs with fewer than two values have no interval and are left out. One noisy run never
makes a step on its own: a step is two runs in a row outside everything before them.
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
    """One run's values of one series, summarised."""

    run_id: str
    n: int
    mean: float
    sd: float  # sample standard deviation (n - 1)

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """The Student-t interval of the mean."""
        half = t_quantile(0.5 + confidence / 2.0, self.n - 1) * self.sd / math.sqrt(self.n)
        return self.mean - half, self.mean + half


def pooled(samples: Sequence[RunSample]) -> RunSample:
    """All the values of ``samples`` as one sample: within-run and between-run spread both count."""
    n = sum(s.n for s in samples)
    mean = math.fsum(s.n * s.mean for s in samples) / n
    squares = math.fsum((s.n - 1) * s.sd**2 + s.n * (s.mean - mean) ** 2 for s in samples)
    return RunSample(f"{len(samples)} run(s)", n, mean, math.sqrt(squares / (n - 1)))


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
    """The pooled mean of ``runs`` with the wider of two t half-widths: over all values, and over the runs' means."""
    p = pooled(runs)
    half = t_quantile(0.5 + confidence / 2.0, p.n - 1) * p.sd / math.sqrt(p.n)
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
    runs = [s for s in samples if s.n >= 2]
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
