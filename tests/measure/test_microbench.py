"""microbench.py: settings, environments, point judgement; the worker for real on this interpreter and on 3.14/3.14t."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests.analysis.microbench_stats import microbench_figures, summarize
from loadtests.core.errors import ConfigError, InterpreterError, LabError
from loadtests.measure import microbench as mb
from loadtests.report.microbench_text import render_microbench
from loadtests.results.records import Microbench


@dataclass(frozen=True)
class FakeInterpreter:
    path: str
    free_threaded: bool
    version: str = "3.14.0"

    @property
    def label(self) -> str:
        return "3.14t" if self.free_threaded else "3.14"


def test_default_thread_counts() -> None:
    assert mb.default_thread_counts(1) == (1, 2)
    assert mb.default_thread_counts(2) == (1, 2, 4)
    assert mb.default_thread_counts(4) == (1, 2, 4, 8)
    assert mb.default_thread_counts(6) == (1, 2, 4, 6, 12)


def test_settings_defaults_and_overrides() -> None:
    s = mb.MicrobenchSettings.from_mapping({}, cores=2)
    assert (s.workloads, s.threads, s.repeats, s.variants) == (mb.WORKLOADS, (1, 2, 4), 3, mb.VARIANTS)
    assert s.estimated_seconds <= 60  # the brief: about a minute on 2 cores
    s = mb.MicrobenchSettings.from_mapping({"workloads": ["hash"], "threads": [4, 1, 1], "seconds": 0.2}, cores=2)
    assert (s.workloads, s.threads, s.seconds_per_point) == (("hash",), (1, 4), 0.2)


@pytest.mark.parametrize("bad", [{"wat": 1}, {"workloads": ["numpy"]}, {"threads": [0, 1]}, {"repeats": 0},
                                 {"variants": ["3.13"]}, {"seconds_per_point": 0}])
def test_settings_reject_nonsense(bad: dict) -> None:
    with pytest.raises(ConfigError):
        mb.MicrobenchSettings.from_mapping(bad, cores=2)


def test_python_gil_never_reaches_the_gil_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_GIL", "0")
    interps = {"gil": FakeInterpreter("/x/python3.14", False), "ft": FakeInterpreter("/x/python3.14t", True)}
    interp, env = mb.variant_command("3.14", interps)
    assert interp.path == "/x/python3.14" and "PYTHON_GIL" not in env
    interp, env = mb.variant_command("3.14t", interps)
    assert interp.path == "/x/python3.14t" and "PYTHON_GIL" not in env
    interp, env = mb.variant_command("3.14t+PYTHON_GIL=1", interps)
    assert interp.path == "/x/python3.14t" and env["PYTHON_GIL"] == "1"


def test_missing_or_mislabelled_interpreter() -> None:
    with pytest.raises(InterpreterError, match="make setup"):
        mb.variant_command("3.14t", {"gil": FakeInterpreter("/x/python3.14", False)})

    @dataclass(frozen=True)
    class Liar(FakeInterpreter):
        @property
        def label(self) -> str:
            return "3.14t"

    with pytest.raises(InterpreterError, match="free_threaded=False"):
        mb.variant_command("3.14t", {"ft": Liar("/x/python3.14", False)})


def test_point_order_rotates_per_repeat() -> None:
    first = mb.point_order(["pure", "json"], [1, 2], 0)
    assert first == [("pure", 1), ("pure", 2), ("json", 1), ("json", 2)]
    assert mb.point_order(["pure", "json"], [1, 2], 1) == first[1:] + first[:1]
    assert sorted(mb.point_order(["pure", "json"], [1, 2], 5)) == sorted(first)


def test_point_judgement_follows_the_variant() -> None:
    assert mb.judge_point("3.14t", gil_enabled=False) is None
    assert "GIL was enabled" in str(mb.judge_point("3.14t", gil_enabled=True))
    assert "PYTHON_GIL=1 was set" in str(mb.judge_point("3.14t+PYTHON_GIL=1", gil_enabled=False))
    assert mb.judge_point("3.14", gil_enabled=True) is None


@pytest.mark.slow
def test_worker_runs_on_this_interpreter() -> None:
    config = {"workloads": ["pure", "json", "hash"], "threads": [1, 2], "seconds": 0.05, "warmup_s": 0.01}
    proc = subprocess.run([sys.executable, str(mb.WORKER), json.dumps(config)], capture_output=True, text=True,
                          timeout=60, check=True)
    data = json.loads(proc.stdout)
    assert [(p["workload"], p["threads"]) for p in data["points"]] == [
        ("pure", 1), ("pure", 2), ("json", 1), ("json", 2), ("hash", 1), ("hash", 2)]
    for p in data["points"]:
        assert p["ops"] == sum(p["ops_per_thread"]) and p["ops"] > 0 and p["seconds"] >= 0.05
        assert 0 < p["cpu_cores"] <= p["threads"] + 0.5
        assert len(p["ops_per_thread"]) == p["threads"]


def test_worker_rejects_unknown_workload() -> None:
    proc = subprocess.run([sys.executable, str(mb.WORKER), json.dumps({"workloads": ["x"], "threads": [1],
                                                                        "seconds": 0.01})],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown workload" in proc.stderr


def test_run_microbench_gil_variant_on_this_interpreter() -> None:
    lines: list[str] = []
    interps = {"gil": FakeInterpreter(sys.executable, False)}
    section = mb.run_microbench(interps, {"variants": ["3.14"], "workloads": ["pure"], "threads": [1, 2],
                                          "repeats": 2, "seconds_per_point": 0.05, "warmup_s": 0.01}, lines.append)
    assert section.thread_counts == (1, 2) and section.repeats == 2 and section.workloads == ("pure",)
    assert len(section.points) == 4
    assert {(p.threads, p.repeat) for p in section.points} == {(1, 0), (2, 0), (1, 1), (2, 1)}
    assert all(p.valid and p.variant == "3.14" for p in section.points)
    rows = summarize(section.points, section.usable_cores)
    assert [r.threads for r in rows] == [1, 2]
    assert all(r.cpu_cores is not None and r.cpu_cores > 0 for r in rows)
    assert "CPU cores used" in render_microbench(microbench_figures(section))
    assert section.interpreters["3.14"].python_gil_env is None
    assert section.others_cores is not None and section.others_cores >= 0
    assert any("repeat 2/2" in line for line in lines)
    assert Microbench.from_json(json.loads(json.dumps(section.to_json()))) == section  # it goes into run.json


def test_worker_claiming_the_wrong_build_is_an_error() -> None:
    with pytest.raises(LabError, match="free_threaded"):
        mb.run_microbench({"ft": FakeInterpreter(sys.executable, True)},
                          {"variants": ["3.14t"], "workloads": ["pure"], "threads": [1], "repeats": 1,
                           "seconds_per_point": 0.01, "warmup_s": 0.0})


def test_failing_worker_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(mb.MicrobenchError, match="status 3"):
        mb.run_microbench({"gil": FakeInterpreter(str(broken), False)},
                          {"variants": ["3.14"], "workloads": ["pure"], "threads": [1], "repeats": 1})


@pytest.mark.slow
def test_real_interpreters_report_the_expected_gil_states() -> None:
    from loadtests.provision.provisioning import load_interpreters

    try:
        interps = load_interpreters()
    except InterpreterError as exc:
        pytest.skip(f"lab not set up: {exc}")
    section = mb.run_microbench(interps, {"workloads": ["pure"], "threads": [1, 2], "repeats": 2,
                                          "seconds_per_point": 0.1, "warmup_s": 0.02})
    states = {(p.variant, p.gil_enabled) for p in section.points}
    assert states == {("3.14", True), ("3.14t", False), ("3.14t+PYTHON_GIL=1", True)}
    assert section.interpreters["3.14t+PYTHON_GIL=1"].python_gil_env == "1"
    assert section.interpreters["3.14"].python_gil_env is None
    assert section.interpreters["3.14t"].free_threaded is True
    assert all(p.valid for p in section.points)
