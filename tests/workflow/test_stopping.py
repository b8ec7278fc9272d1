"""stopping.py: fixed pairs, and the two-stage rule (a pilot of valid pairs fixes the pairs; the time budget)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loadtests.plan.comparisons import comparisons
from loadtests.results.records import Cell
from loadtests.results.store import load_run
from loadtests.workflow.stopping import adaptive, pairs_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"
RUN = load_run(FIXTURES / "v3" / "smoke-paired.json")
(COMPARISON,) = comparisons(RUN.settings.plan.configs)


def blocks(n: int, ratio: float = 2.0, noise: float = 0.0) -> list[Cell]:
    """``n`` blocks of one window per arm, shaped like the fixture's first windows, with chosen throughputs."""
    template = list({c.config_id: c for c in reversed([c for c in RUN.cells if c.block == 0])}.values())
    out = []
    for b in range(n):
        wobble = 1 + noise * (1 if b % 2 else -1)
        for c in template:
            rps = 10.0 * (ratio if c.config.interpreter == "3.14t" else 1.0) * (wobble if c.config.interpreter == "3.14t" else 1.0)
            out.append(replace(c, block=b, rps=rps, valid=True, invalid_reason=None))
    return out


def test_the_pairs_of_a_comparison() -> None:
    assert [(k, c.interpreter, b.interpreter) for k, c, b in pairs_of(COMPARISON)] == [("3.14t vs 3.14", "3.14t", "3.14")]


def test_without_a_target_the_plan_s_pairs_are_measured() -> None:
    plan = replace(RUN.settings.plan, repeats=3, precision=None)
    assert adaptive(COMPARISON, blocks(2), plan, 1.0).stop is None
    assert adaptive(COMPARISON, blocks(3), plan, 1.0).stop == "fixed pairs"


def test_the_pilot_is_six_valid_pairs_and_a_quiet_pilot_plans_no_more() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.10, max_time_s=None)
    assert adaptive(COMPARISON, blocks(5), plan, 1.0).stop is None  # no plan before the pilot is complete
    decision = adaptive(COMPARISON, blocks(6), plan, 1.0)
    assert decision.stop == "precision reached" and "2.00×" in decision.note
    assert (decision.pilot_pairs, decision.planned_pairs) == (6, 6) and decision.pilot_log_sd == 0.0


def test_a_wide_pilot_plans_the_pairs_that_reach_the_target_and_the_time_budget_stops_first() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.05, max_time_s=60)
    noisy = blocks(6, noise=0.3)
    decision = adaptive(COMPARISON, noisy, plan, 10.0)
    # log spread of ±0.3 alternating: sd ≈ 0.338; (t(0.975, 5) × 0.338 / asinh(0.05))² ≈ 302 → the cap
    assert decision.stop is None and decision.planned_pairs == 200 and decision.pilot_log_sd > 0.3
    assert adaptive(COMPARISON, noisy, plan, 61.0).stop == "time budget"


def test_the_planned_pairs_are_measured_without_looking_at_the_interval() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.10, max_time_s=None)
    pilot = blocks(6, noise=0.05)  # sd ≈ 0.055: (2.571 × 0.055 / asinh(0.1))² ≈ 2 → the pilot's 6 are enough
    assert adaptive(COMPARISON, pilot, plan, 1.0).planned_pairs == 6
    wider = blocks(12, noise=0.1)
    planned = adaptive(COMPARISON, wider[:12], plan, 1.0).planned_pairs
    assert planned == 9  # log ratios ln 1.8 and ln 2.2 in turn: sd 0.1099; (2.5706 × 0.1099 / 0.09983)² = 8.01
    assert adaptive(COMPARISON, wider[:16], plan, 1.0).stop is None  # 8 blocks of 2 windows
    assert adaptive(COMPARISON, wider[:18], plan, 1.0).stop in ("precision reached", "planned pairs")


def test_invalid_windows_do_not_count_as_pairs() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.10, max_time_s=None)
    cells = blocks(7)
    spoiled = [replace(c, valid=False) if c.block == 5 and c.config.interpreter == "3.14t" else c for c in cells]
    decision = adaptive(COMPARISON, spoiled, plan, 1.0)
    assert "(6 pairs)" in decision.note and decision.stop == "precision reached"
    assert adaptive(COMPARISON, spoiled[:12], plan, 1.0).stop is None  # 6 blocks, one spoiled: 5 valid pairs
