"""stopping.py: fixed pairs, and the adaptive rule (minimum pairs, precision, time budget)."""

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
    """``n`` blocks shaped like the fixture's first one, with chosen throughputs."""
    template = [c for c in RUN.cells if c.block == 0]
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


def test_adaptive_never_stops_before_five_pairs_even_when_precise() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.10, max_time_s=None)
    assert adaptive(COMPARISON, blocks(4), plan, 1.0).stop is None
    decision = adaptive(COMPARISON, blocks(5), plan, 1.0)
    assert decision.stop == "precision reached" and "2.00×" in decision.note


def test_adaptive_goes_on_while_imprecise_and_stops_when_the_time_is_up() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.05, max_time_s=60)
    noisy = blocks(6, noise=0.3)
    assert adaptive(COMPARISON, noisy, plan, 10.0).stop is None
    assert adaptive(COMPARISON, noisy, plan, 61.0).stop == "time budget"


def test_invalid_windows_do_not_count_as_pairs() -> None:
    plan = replace(RUN.settings.plan, repeats=2, precision=0.10, max_time_s=None)
    cells = blocks(6)
    spoiled = [replace(c, valid=False) if c.block == 5 and c.config.interpreter == "3.14t" else c for c in cells]
    decision = adaptive(COMPARISON, spoiled, plan, 1.0)
    assert "(5 pairs)" in decision.note
