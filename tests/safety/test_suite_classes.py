"""Each test's class from its outcomes in every pass (made-up passes; the real ones are end-to-end tests)."""

from __future__ import annotations

from pathlib import Path

from loadtests.safety.pytest_runs import OneTest, PassRun, PassSpec
from loadtests.safety.suite import Arm, _classify

PYTHON = Path("/nowhere/python")


def arm(name: str, role: str, label: str, outcome: str, reruns: tuple[str, ...] = (), serial: str | None = None) -> Arm:
    run = PassRun(tests={"t": OneTest("t", outcome, "boom" if outcome != "passed" else None)}, collected=["t"],
                  serial={"t": serial} if serial else {})
    again = [PassRun(tests={"t": OneTest("t", o)}, collected=["t"]) for o in reruns]
    return Arm(PassSpec(name, PYTHON), role, label, run, again)


def passes(p314: str = "passed", p314t: str = "passed", q314: str = "passed", q314t: str = "passed",
           reruns: tuple[str, ...] = ()) -> list[Arm]:
    """The four passes; ``reruns`` are the parallel 3.14t pass's, every other pass passes its re-runs."""
    fine = ("passed",) * len(reruns)
    return [arm("plain 3.14", "plain", "3.14", p314, fine), arm("plain 3.14t", "plain", "3.14t", p314t, fine),
            arm("parallel 3.14", "parallel", "3.14", q314, fine),
            arm("parallel 3.14t", "parallel", "3.14t", q314t, reruns, serial="uses the thread_unsafe marker")]


def test_a_failure_only_in_threads_on_3_14t_is_a_race_the_gil_hid() -> None:
    test = _classify("t", passes(q314t="failed", reruns=("failed", "passed", "failed")))
    assert (test.classification, test.decided_by, test.is_race) == ("fails-parallel-ft-only", "parallel 3.14t", True)
    deciding = test.deciding
    assert deciding is not None and (deciding.runs, deciding.failures) == (4, 3)
    assert test.kept_serial == "uses the thread_unsafe marker"


def test_a_test_that_also_fails_plainly_in_its_re_runs_is_a_flake_not_a_race() -> None:
    flaky = passes(q314t="failed", reruns=("passed", "failed", "passed"))
    flaky[0] = arm("plain 3.14", "plain", "3.14", "passed", ("passed", "failed", "passed"))
    test = _classify("t", flaky)
    assert (test.classification, test.decided_by, test.is_race) == ("fails-everywhere", "plain 3.14", False)


def test_the_first_class_that_applies_wins() -> None:
    assert _classify("t", passes(q314="failed", q314t="failed")).classification == "fails-parallel-both"
    assert _classify("t", passes(p314t="failed", q314t="failed")).classification == "fails-everywhere"
    assert _classify("t", passes(q314t="crashed")).classification == "crashed"
    assert _classify("t", passes(p314="hung")).classification == "hung"
    assert _classify("t", passes(p314="error", p314t="error")).classification == "not-run"
    assert _classify("t", passes(p314="skipped", p314t="skipped")).classification == "not-run"
    assert _classify("t", passes()).classification == "passes"


def test_a_crash_or_hang_counts_as_a_race_only_when_it_happened_in_threads() -> None:
    assert _classify("t", passes(q314t="hung")).is_race
    assert not _classify("t", passes(p314t="crashed")).is_race
