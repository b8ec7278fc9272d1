"""Which comparisons get profile windows: per scenario and server, the headline's two one-process arms."""

from __future__ import annotations

from dataclasses import replace

from loadtests.measure.profiling import failed_profile, headline_comparisons, profiled_configs
from loadtests.plan.comparisons import comparisons
from loadtests.results.records import CellConfig


def config(interpreter: str, users: int, server: str = "uvicorn", **changes: object) -> CellConfig:
    base = CellConfig("json", server, 1, "threads", 8, users, None, None, interpreter)
    return replace(base, **changes)


def test_the_headline_is_the_comparison_at_the_most_users_with_both_one_process_arms() -> None:
    plans = comparisons([config("3.14", 4), config("3.14t", 4), config("3.14", 1), config("3.14t", 1),
                         config("3.14", 4, parallelism="processes", workers=2),
                         config("3.14", 4, "granian"), config("3.14t", 4, "granian"),
                         config("3.14", 8, "granian"),  # no 3.14t arm at 8 users: not a headline
                         config("3.14t", 4, python_gil="0")])
    chosen = headline_comparisons(plans)
    assert chosen == {"json/uvicorn/u4/t8", "json/granian/u4/t8"}
    (uvicorn,) = [p for p in plans if p.comparison_id == "json/uvicorn/u4/t8"]
    assert [(c.interpreter, c.parallelism, c.python_gil) for c in profiled_configs(uvicorn)] == [
        ("3.14", "threads", None), ("3.14t", "threads", None)]


def test_a_profile_that_could_not_be_taken_says_why() -> None:
    failed = failed_profile(config("3.14t", 4), "json/uvicorn/u4/t8", "server crashed during the window")
    assert failed.error == "server crashed during the window" and failed.samples == 0 and failed.causes == ()
