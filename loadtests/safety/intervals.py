"""The Wilson score interval of a proportion: a mismatch rate with its uncertainty.

Wilson's interval stays inside [0, 1] and is honest at the ends: 0 mismatches in
1,000 requests is not "a rate of exactly 0" but "at most about 0.4%" at 95%.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The 95% Wilson score interval of ``successes / trials`` ((0, 1) when nothing was tried)."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, not a rounding error away
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high
