"""Every exit status of the CI gates, from the real `gil-lab` binary on real run directories.

The run directories are the paired smoke fixture (a real run of the smoke preset) copied
to a temporary directory, some with their figures changed (tests/fixtures/paired_runs.py).
A real `gil-lab compare --expect` is measured in test_smoke_run.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loadtests.analysis.run_analysis import analyse
from loadtests.core.exit_status import ExitStatus
from loadtests.results.records import SummaryRecord
from loadtests.results.store import load_run, save_summary
from tests.conftest import run_lab
from tests.fixtures.paired_runs import FIXTURE, paired_run, write_paired

BLOCKS = [(10.0, 19.0), (11.0, 21.0), (10.5, 20.0), (9.5, 18.5), (10.0, 19.5)]


def lab(*args: str | Path) -> tuple[int, str, str]:
    result = run_lab(*map(str, args), check=False, timeout=120)
    return result.returncode, result.stdout, result.stderr


def run_with(tmp_path: Path, name: str, ft_factor: float = 1.0, **kw: object) -> Path:
    doc = paired_run(f"20261202T0{len(name)}0000Z-smoke-{name}", [(g, f * ft_factor) for g, f in BLOCKS],
                     **kw)  # type: ignore[arg-type]
    return write_paired(tmp_path / name, doc)


# --- diff --fail-above ---------------------------------------------------------------------


def test_diff_of_a_run_with_itself_passes(tmp_path: Path) -> None:
    a = tmp_path / "copy"
    a.mkdir()
    shutil.copy(FIXTURE, a / "run.json")
    code, out, _ = lab("diff", a, a, "--fail-above", "5")
    assert code == ExitStatus.PASS
    assert "passed: no figure is worse with significance" in out and out.rstrip().endswith("exit status 0")


def test_diff_exits_10_on_a_regression_beyond_the_threshold(tmp_path: Path) -> None:
    a, b = run_with(tmp_path, "a"), run_with(tmp_path, "b", 0.75)
    code, out, _ = lab("diff", a, b, "--fail-above", "10")
    assert code == ExitStatus.FAILED
    assert "REGRESSION  json/uvicorn/3.14t/gil-default/w1/t8/u8: throughput B/A 0.75×" in out
    assert "paired ratios of each run" in out and "lower in B" in out
    assert lab("diff", a, b, "--fail-above", "30")[0] == ExitStatus.PASS
    code, out, _ = lab("diff", a, b, "--fail-above", "10", "--json")
    data = json.loads(out)
    assert code == ExitStatus.FAILED and data["gate"]["exit_status"] == 10
    assert data["paired_ratios"][0]["change"] == pytest.approx(0.75, rel=0.01)


def test_diff_exits_11_on_invalid_cells(tmp_path: Path) -> None:
    a = run_with(tmp_path, "a")
    b = run_with(tmp_path, "bb", invalid={("3.14t", 2): "server crashed (exit -9)"})
    code, out, _ = lab("diff", a, b, "--fail-above", "10")
    assert code == ExitStatus.INVALID
    assert "INVALID     json/uvicorn/3.14t/gil-default/w1/t8/u8: run B: " in out and "server crashed (exit -9)" in out


def test_diff_usage_and_lab_errors(tmp_path: Path) -> None:
    a = run_with(tmp_path, "a")
    code, _, err = lab("diff", a, a, "--fail-above", "-1")
    assert code == ExitStatus.USAGE_ERROR and "--fail-above" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("{", encoding="utf-8")
    code, _, err = lab("diff", a, broken, "--fail-above", "5")
    assert code == ExitStatus.LAB_ERROR and err.startswith("error: ")


# --- check --expect ------------------------------------------------------------------------


def test_check_passes_fails_and_explains(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r")
    code, out, _ = lab("check", run, "--expect", "json:3.14t/3.14>=1.5", "--expect", "json@uvicorn,u8:3.14t/3.14<2.5")
    assert code == ExitStatus.PASS, out
    assert out.count("  PASS     ") == 2 and "its lower end 1.8" in out and "2 passed: exit status 0" in out
    code, out, _ = lab("check", run, "--expect", "json:3.14t/3.14>=1.5", "--expect", "json:3.14t/3.14>=1.95")
    assert code == ExitStatus.FAILED
    assert "FAIL     json:3.14t/3.14>=1.95" in out and "1 passed, 1 failed: exit status 10" in out


def test_check_exits_11_when_the_comparison_is_invalid(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r", invalid={("3.14t", b): "GIL enabled by _yaml" for b in range(len(BLOCKS))})
    code, out, _ = lab("check", run, "--expect", "json:3.14t/3.14>=1.5", "--json")
    (result,) = json.loads(out)["results"]
    assert code == ExitStatus.INVALID and result["status"] == "invalid" and "GIL enabled by _yaml" in result["reason"]


def test_check_exits_1_when_the_planned_comparison_is_not_in_the_run(tmp_path: Path) -> None:
    doc = paired_run("20261202T080000Z-smoke-part", BLOCKS)
    gil = doc["settings"]["plan"]["configs"][0]
    doc["settings"]["plan"]["configs"].append({**gil, "parallelism": "processes", "workers": 2, "group": "processes"})
    run = write_paired(tmp_path / "part", doc)  # the run stopped before the processes arm: it has no cell
    code, out, _ = lab("check", run, "--expect", "json:3.14t/3.14x2proc>=0.9")
    assert code == ExitStatus.LAB_ERROR
    assert "MISSING  json:3.14t/3.14x2proc>=0.9  run 20261202T080000Z-smoke-part has no 3.14t/3.14×2 proc" in out


def test_check_refuses_bad_expressions_as_usage_errors(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r")
    for expression, message in (("json:3.14t/3.14=>1.5", "'=>' is written '>='"),
                                ("image:3.14t/3.14>=1", "the run measures no scenario 'image'; it has json"),
                                ("json@granian:3.14t/3.14>=1", "no server granian; it has uvicorn")):
        code, out, err = lab("check", run, "--expect", expression)
        assert code == ExitStatus.USAGE_ERROR and message in err and out == ""
    code, _, err = lab("check", run)
    assert code == ExitStatus.USAGE_ERROR and "Missing option '--expect'" in err


def test_check_reads_summary_json_when_there_is_one(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r")
    summary = analyse(load_run(run)).summary
    (entry,) = summary.comparisons
    narrowed = SummaryRecord.from_json({**summary.to_json(), "comparisons": [{**entry.to_json(), "ci_low": 1.97}]})
    save_summary(run, narrowed)
    code, out, _ = lab("check", run, "--expect", "json:3.14t/3.14>=1.95")
    assert code == ExitStatus.PASS and "its lower end 1.97" in out


# --- history -------------------------------------------------------------------------------


def test_history_flags_a_confirmed_step(tmp_path: Path) -> None:
    for day, factor in enumerate([1.0, 1.0, 1.0, 0.75, 0.75], start=1):
        doc = paired_run(f"202612{day:02d}T080000Z-smoke-{day:04d}", [(g, f * factor) for g, f in BLOCKS],
                         created_at=f"2026-12-{day:02d}T08:00:00Z")
        write_paired(tmp_path / doc["run_id"], doc)
    code, out, _ = lab("history", "--results", tmp_path)
    assert code == ExitStatus.PASS
    step_line = next(line for line in out.splitlines() if line.endswith("20261204T080000Z-smoke-0004"))
    assert "2 ↓↓" in step_line and "unconfirmed" not in step_line
    assert "confirmed by 20261205T080000Z-smoke-0005" in out


# --- run --expect ----------------------------------------------------------------------------


def test_run_refuses_an_expectation_the_plan_cannot_answer_before_measuring(tmp_path: Path) -> None:
    code, out, err = lab("run", "--preset", "smoke", "--out", tmp_path, "--expect", "json:3.14t/3.14x2proc>=0.9")
    assert code == ExitStatus.USAGE_ERROR and "no 3.14t/3.14×2 proc comparison for json" in err
    assert list(tmp_path.iterdir()) == [] and out == ""


# --- capacity runs ---------------------------------------------------------------------------

CAPACITY_RUN = FIXTURE.parents[1] / "v9" / "capacity-fit.json"  # a real `gil-lab capacity --scenario json` run


def capacity_dir(tmp_path: Path) -> Path:
    run = tmp_path / "capacity"
    run.mkdir()
    shutil.copy(CAPACITY_RUN, run / "run.json")
    return run


def test_a_capacity_run_diffed_against_itself_passes_with_its_invalid_step_windows(tmp_path: Path) -> None:
    run = capacity_dir(tmp_path)
    assert any(not cell["valid"] for cell in json.loads(CAPACITY_RUN.read_text())["cells"])  # windows retried
    code, out, _ = lab("diff", run, run, "--fail-above", "5")
    assert code == ExitStatus.PASS, out
    assert "capacities and capacity ratios of each run" in out
    assert "passed: no figure is worse with significance" in out and "INVALID" not in out
    code, out, _ = lab("diff", run, run, "--fail-above", "5", "--json")
    data = json.loads(out)
    capacity = [f for f in data["figures"] if f["measure"].startswith("capacity")]
    assert code == ExitStatus.PASS and data["gate"]["compared"] == len(capacity) >= 3
    assert all(f["change"] == 1.0 for f in capacity)


def test_expect_gates_a_ratio_of_capacities_end_to_end(tmp_path: Path) -> None:
    run = capacity_dir(tmp_path)
    ratio = next(r for r in analyse(load_run(run)).summary.capacity_ratios if r.kind == "interpreter")
    assert ratio.ci_low is not None and ratio.ci_high is not None
    below, above = f"{ratio.ci_low * 0.95:.3f}", f"{ratio.ci_high * 1.05:.3f}"
    code, out, _ = lab("check", run, "--expect", f"json:3.14t/3.14>={below}", "--expect", f"json:3.14t/3.14<={above}")
    assert code == ExitStatus.PASS, out
    assert "capacity at p95 < SLO (3.14t uvicorn w1 t8 / 3.14 uvicorn w1 t8)" in out and "2 passed" in out
    code, out, _ = lab("check", run, "--expect", f"json:3.14t/3.14>={above}", "--json")
    (result,) = json.loads(out)["results"]
    assert code == ExitStatus.FAILED and result["status"] == "fail" and result["measure"] == "capacity"
    assert f"its lower end {ratio.ci_low:.2f} is not >= {above}" in result["reason"]
