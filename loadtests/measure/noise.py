"""A window during which the machine was visibly busy elsewhere: noisy, and measured again a bounded number of times.

On a shared or virtual machine other work takes cores from the server under test. The
lab reads, for every window, the CPU the hypervisor stole (``steal``) and the cores
busy outside the server's and Locust's trees and the lab itself (``foreign_cpu_cores``).
Above the run's bounds (:data:`NOISY_STEAL`, :func:`foreign_bound`) the window is
*noisy*: it is kept, and measured again at once, at most :data:`NOISY_REPEATS` times in
a row and :data:`NOISY_REPEATS_PER_COMPARISON` times per comparison, so a machine that
stays busy stretches a run by a bounded amount. A noisy window that was measured again
is kept but not counted (``superseded``); one that was not counts, flagged. Neither
makes its configuration invalid. The foreign-CPU rule is off for an ``--app-url`` app,
whose own processes are outside the lab's trees.
"""

from __future__ import annotations

from loadtests.results.records import Cell, ValidityThresholds

#: More than 5% of the CPU time stolen by the hypervisor: other guests ran on the same cores.
NOISY_STEAL = 0.05
NOISY_REPEATS = 2
NOISY_REPEATS_PER_COMPARISON = 8


def foreign_bound(usable_cores: int) -> float:
    """Other work above a tenth of the usable cores (at least 0.2 of a core) perturbs a window visibly."""
    return round(max(0.2, 0.1 * usable_cores), 2)


def noisy_reason(steal: float | None, foreign_cores: float | None, drain_settled: bool | None, drain_s: float | None,
                 thresholds: ValidityThresholds, external: bool) -> str | None:
    """Why the machine was busy elsewhere during a window, or None."""
    if drain_settled is False:
        return f"the previous window's server was still busy after {drain_s:g} s"
    if steal is not None and thresholds.noisy_steal is not None and steal > thresholds.noisy_steal:
        return f"the hypervisor stole {steal:.0%} of the CPU time (the bound is {thresholds.noisy_steal:.0%})"
    bound = thresholds.noisy_foreign_cores
    if not external and foreign_cores is not None and bound is not None and foreign_cores > bound:
        return f"other work used {foreign_cores:.2f} cores beside the measured processes (the bound is {bound:g})"
    return None


def repeat_noisy(cell: Cell, in_a_row: int, in_comparison: int, thresholds: ValidityThresholds) -> bool:
    """Whether a noisy window is measured again: within both allowances."""
    return (cell.noisy is not None and cell.valid and in_a_row < thresholds.noisy_repeats
            and in_comparison < thresholds.noisy_repeats_per_comparison)
