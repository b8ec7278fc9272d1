"""decision.py: move, stay or not yet, weighed against 3.14 in one process and 3.14 × N processes, with blockers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.analysis import analyse
from loadtests.analysis.decision import decide
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import KIND_PROCESSES, Comparison
from loadtests.analysis.figures.decision import ScenarioDecision
from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.analysis.figures.stats import PairedRatio
from loadtests.results.records import CrashReport, InFlightRequest, RunRecord
from loadtests.results.records.safety import SafetyRecord
from loadtests.results.records.soak import SoakCheck
from loadtests.results.store import load_run, parse_run
from tests.fixtures.synthetic_runs import make_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"


@pytest.fixture(scope="module")
def one_server() -> Analysis:
    """json on uvicorn: 3.14t against one 3.14 process and against 3.14 × 2 processes."""
    return analyse(parse_run(make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), trap=False,
                                      gil_toggle=False, microbench=False, invalid_crash=False)))


def ratio(value: float, low: float, high: float) -> PairedRatio:
    return PairedRatio(ratio=value, low=low, high=high, n_pairs=5, log_sd=0.05)


def with_speed(a: Analysis, against_one: PairedRatio | None = None, against_n: PairedRatio | None = None,
               memory_n: float | None = None) -> list[Comparison]:
    """The analysis's comparisons with the given ratios (and memory against N processes)."""
    out = []
    for c in a.comparisons:
        if c.kind == KIND_PROCESSES and against_n is not None:
            c = replace(c, speedup=against_n, memory_ratio=memory_n if memory_n is not None else c.memory_ratio)
        elif c in a.headlines and against_one is not None:
            c = replace(c, speedup=against_one)
        out.append(c)
    return out


def decided(a: Analysis, comparisons: Sequence[Comparison] | None = None, run: RunRecord | None = None,
            memory: Sequence[MemoryGrowth] = ()) -> ScenarioDecision:
    comps = list(comparisons if comparisons is not None else a.comparisons)
    heads = [c for c in comps if any(c.candidate.config_id == h.candidate.config_id and
                                     c.baseline.config_id == h.baseline.config_id for h in a.headlines)]
    (d,) = decide(run or a.run, a.scenarios, heads, comps, a.claims.incidents, memory)
    return d


def weights(d: ScenarioDecision) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in d.evidence:
        out.setdefault(e.topic, []).append(e.weight)
    return out


def test_faster_than_one_process_but_slower_than_n_processes_stays_on_n_processes() -> None:
    """The card that read "3.14t is faster than 3.14" first now leads with what the team would otherwise run."""
    a = analyse(parse_run(make_run()))
    d = a.decision("json")
    assert d is not None and d.verdict == "stay" and d.alternative == "3.14 × 2 processes on uvicorn"
    assert d.sentence == ("Stay on 3.14 × 2 processes on uvicorn: it served 1.12× as much as 3.14t on granian "
                          "(ratio 0.89×, 95% CI 0.85–0.94).")
    assert weights(d)["speed"] == ["for", "for", "against", "against", "against"]
    assert any("never side by side" in e.text for e in d.evidence)  # granian 3.14t never alternated with it
    assert d.would_change[0] == "3.14t serving 1.12× what it does now: the gap to 3.14 × 2 processes on uvicorn"


def test_faster_than_both_moves_and_names_what_was_not_checked(one_server: Analysis) -> None:
    d = decided(one_server, with_speed(one_server, ratio(1.9, 1.8, 2.0), ratio(1.3, 1.2, 1.4)))
    assert d.verdict == "move" and d.headline == "Move to 3.14t on uvicorn"
    assert d.because == ("it served 1.30× as much as 3.14 × 2 processes on uvicorn (95% CI 1.20–1.40) and 1.90× as "
                         "much as one 3.14 process on uvicorn")
    assert d.would_change == ("a lead that does not hold: against 3.14 × 2 processes on uvicorn the interval reaches "
                              "down to 1.20×",
                              "a problem only 3.14t shows, in what this run did not check: memory growth")


def test_as_fast_as_n_processes_moves_only_for_the_memory(one_server: Analysis) -> None:
    tie = ratio(0.98, 0.9, 1.06)
    leaner = decided(one_server, with_speed(one_server, ratio(1.9, 1.8, 2.0), tie, memory_n=0.6))
    assert leaner.verdict == "move" and leaner.because.endswith("with 40% less memory")
    same = decided(one_server, with_speed(one_server, ratio(1.9, 1.8, 2.0), tie, memory_n=1.02))
    assert same.verdict == "stay" and same.headline == "Stay on 3.14 × 2 processes on uvicorn"
    assert same.because == "3.14t on uvicorn is no faster (ratio 0.98×, 95% CI 0.90–1.06)"


def test_a_tie_too_wide_to_bound_the_cost_of_a_move_is_not_yet(one_server: Analysis) -> None:
    wide = ratio(1.0, 0.48, 2.07)  # two instances that disagreed: one degree of freedom
    d = decided(one_server, with_speed(one_server, ratio(1.9, 1.8, 2.0), wide, memory_n=0.6))
    assert d.verdict == "not yet" and d.headline == "Not yet"
    assert d.because == ("3.14t on uvicorn needs 40% less memory than 3.14 × 2 processes on uvicorn, but the run "
                         "cannot tell what it would cost in throughput (ratio 1.00×, 95% CI 0.48–2.07: as low as 0.48×)")
    assert any("at least 0.85×" in c for c in d.would_change)
    bounded = decided(one_server, with_speed(one_server, ratio(1.9, 1.8, 2.0), ratio(1.0, 0.86, 1.16), memory_n=0.6))
    assert bounded.verdict == "move"


def test_one_pair_is_not_yet() -> None:
    d = analyse(load_run(FIXTURES / "v1" / "smoke.json")).decisions[0]
    assert d.verdict == "not yet" and d.because.startswith("one pair cannot tell 3.14t on uvicorn from")
    assert d.would_change[0].startswith("more pairs")


def crashed(run: RunRecord, interpreter: str, scenario: str = "json") -> RunRecord:
    """``run`` with one window of ``interpreter`` carrying a crash."""
    cell = next(c for c in run.cells if c.config.interpreter == interpreter and c.config.scenario == scenario)
    crash = CrashReport(pid=7, exit_status=-11, fatal="Fatal Python error: Segmentation fault", traceback="...",
                        in_flight=(InFlightRequest(endpoint="GET /json", seconds=0.2, pid=7),))
    return replace(run, cells=tuple(replace(c, crash=crash) if c is cell else c for c in run.cells))


def test_a_crash_on_3_14t_only_holds_a_move_back_and_one_on_both_does_not(one_server: Analysis) -> None:
    faster = with_speed(one_server, ratio(1.9, 1.8, 2.0), ratio(1.3, 1.2, 1.4))
    ft_only = decided(one_server, faster, crashed(one_server.run, "3.14t"))
    assert ft_only.verdict == "not yet" and ft_only.headline == "Not yet"
    assert ft_only.because == ("3.14t on uvicorn would serve 1.30× as much as 3.14 × 2 processes on uvicorn, but the "
                               "server crashed on 3.14t only (3.14t: Fatal Python error: Segmentation fault with "
                               "GET /json in flight)")
    assert ft_only.would_change[0].startswith("the crash fixed")
    both = decided(one_server, faster, crashed(crashed(one_server.run, "3.14t"), "3.14"))
    assert both.verdict == "move" and weights(both)["crashes"] == ["neutral"]


def test_a_teams_service_whose_answers_were_not_checked_is_not_yet(one_server: Analysis) -> None:
    faster = with_speed(one_server, ratio(1.9, 1.8, 2.0), ratio(1.3, 1.2, 1.4))
    team = replace(one_server.run, settings=replace(one_server.run.settings, team_scenarios=("json",)))
    d = decided(one_server, faster, team)
    assert d.verdict == "not yet" and "answers not checked under parallel load" in d.because
    assert d.would_change == ("the answers checked under parallel load: `gil-lab safety` (or compare with "
                              "--locustfile)",)


def growth(interpreter: str, grows: bool) -> MemoryGrowth:
    return MemoryGrowth(interpreter=interpreter, measure="RssAnon", requests=5000,
                        slope_mb_per_1000=6.0 if grows else 0.1, ci_low=5.5 if grows else -0.3,
                        ci_high=6.5 if grows else 0.5, grows=grows, plateau_s=40.0, plateau_mb=100.0, end_mb=130.0,
                        threads_start=13, threads_end=13, readings=(), fitted=())


def test_memory_that_grows_on_3_14t_only_holds_a_move_back(one_server: Analysis) -> None:
    faster = with_speed(one_server, ratio(1.9, 1.8, 2.0), ratio(1.3, 1.2, 1.4))
    soak = SoakCheck(source="x", server="uvicorn", threads=8, users=8, duration_s=120.0, interval_s=0.5, series=())
    run = replace(one_server.run, safety=SafetyRecord(app="app.main:app", responses=None, soak=soak))
    leaky = decided(one_server, faster, run, [growth("3.14", False), growth("3.14t", True)])
    assert leaky.verdict == "not yet" and leaky.because.endswith("but memory grows on 3.14t only")
    flat = decided(one_server, faster, run, [growth("3.14", False), growth("3.14t", False)])
    assert flat.verdict == "move" and weights(flat)["memory growth"] == ["for"]


def test_the_gil_back_on_is_not_yet_and_a_capacity_run_has_no_decision() -> None:
    trap = analyse(load_run(FIXTURES / "v1" / "gil-trap.json")).decision("trap")
    assert trap is not None and trap.verdict == "not yet" and trap.blockers[0].topic == "GIL"
    assert analyse(load_run(FIXTURES / "v4" / "capacity-workers.json")).decisions == ()
