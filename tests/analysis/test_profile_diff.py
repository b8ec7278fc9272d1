"""Both profiles of a headline comparison side by side: per cause and per function, 3.14t minus 3.14 per request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadtests.analysis.profile_diff import profile_pairs
from tests.analysis.test_evidence_rules import profile, run_with


def test_functions_of_both_interpreters_binaries_line_up_and_the_largest_extra_cost_comes_first() -> None:
    run = run_with({"eval": 0.7, "allocator": 0.3}, {"eval": 0.5, "allocator": 0.3, "refcount-shared": 0.2})
    (pair,) = profile_pairs(run)
    first = pair.functions[0]
    assert (first.function, first.library, first.gil_ms) == ("refcount-shared_fn", "interpreter", None)
    assert first.delta_ms == pytest.approx(10.05, abs=0.01)  # 200 samples / 199 Hz / 100 requests
    alloc = next(f for f in pair.functions if f.function == "allocator_fn")
    assert alloc.delta_ms == pytest.approx(0.0)  # python3.14 and python3.14t are both "the interpreter"
    assert [d.cause for d in pair.causes][0] == "refcount-shared"
    assert pair.share("3.14t", "refcount-shared") == 0.2 and pair.share("3.14", "refcount-shared") == 0.0


def test_a_failed_side_leaves_no_difference_to_compute() -> None:
    run = run_with({"eval": 1.0}, {"eval": 1.0})
    run = replace(run, profiles=(run.profiles[0], replace(profile("3.14t", {"eval": 1.0}), error="perf failed",
                                                          samples=0)))
    (pair,) = profile_pairs(run)
    assert pair.functions == () and pair.share("3.14t", "eval") is None and pair.share("3.14", "eval") == 1.0
