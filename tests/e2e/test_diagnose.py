"""`gil-lab diagnose` end to end: the probe, a short comparison, a profile window per server, every finding cited.

One real run of the lab's compute scenario on uvicorn (both interpreters), with the
shortest windows that still measure something; it checks what each piece of evidence
left in run.json, summary.json, the report and the terminal, never a figure's size.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.results.store import load_run
from tests.conftest import run_lab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def diagnosed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("diagnose")
    result = run_lab("diagnose", "--servers", "uvicorn", "--repeats", "1", "--duration", "1.5", "--warmup", "1",
                     "--out", str(out))
    (run_dir,) = [d for d in out.iterdir() if (d / "run.json").is_file()]
    return run_dir, result.stdout


def test_the_probe_ran_each_endpoint_of_the_scenario_on_both_interpreters(diagnosed: tuple[Path, str]) -> None:
    run = load_run(diagnosed[0])
    assert run.settings.plan.probe and run.settings.plan.profile
    assert {(p.scenario, p.interpreter) for p in run.probes} == {("compute", "3.14"), ("compute", "3.14t")}
    for probe in run.probes:
        (endpoint,) = probe.endpoints
        assert (endpoint.key, endpoint.route, endpoint.status, endpoint.error) == (
            "GET /compute/pure", "/compute/pure", 200, None)
        assert {s.threads for s in endpoint.steps} >= {1, 2} and endpoint.control
        assert any(g.name == "_MODULUS" and g.function == "app.workloads.compute_work.pure" for g in endpoint.globals)
    summary = json.loads((diagnosed[0] / "summary.json").read_text())
    assert {(row["interpreter"], row["threads"]) for row in summary["probe"]} >= {("3.14", 1), ("3.14t", 2)}


def test_each_server_was_profiled_or_the_run_says_why_not(diagnosed: tuple[Path, str]) -> None:
    run_dir, stdout = diagnosed
    run = load_run(run_dir)
    assert run.profiling is not None and run.profiling.unwinding == "dwarf" and run.profiling.event == "cpu-clock"
    summary = json.loads((run_dir / "summary.json").read_text())
    codes = {f["code"] for f in summary["diagnosis"]}
    if not run.profiling.available:
        assert run.profiles == () and "no-profile" in codes and run.profiling.remedy
        return
    assert {p.interpreter for p in run.profiles} == {"3.14", "3.14t"}
    for profile in run.profiles:
        assert profile.error is None and profile.samples > 0 and profile.requests > 0, profile
        assert profile.causes and profile.functions and profile.folded
        assert (run_dir / profile.folded).is_file() and not any(run_dir.glob("profiles/*/perf.data"))
        assert any(t.kind == "anyio-worker" for t in profile.threads)  # the layer named the threads
    html = (run_dir / "report.html").read_text()
    assert html.count('id="chart-flame-compute-uvicorn') >= 2 and "<script" not in html
    assert "flamegraphs/flame-compute-uvicorn-3-14t.svg" in (run_dir / "report.md").read_text()
    assert "profile-causes-compute-uvicorn" in html and summary["profile_causes"]


def test_every_finding_cites_its_evidence_in_summary_json_and_the_terminal(diagnosed: tuple[Path, str]) -> None:
    run_dir, stdout = diagnosed
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["diagnosis"], stdout
    for finding in summary["diagnosis"]:
        assert finding["evidence"] and finding["detail"] and finding["change"], finding
    assert "diagnosis:" in stdout and stdout.count("evidence:") == len(summary["diagnosis"])
    windows = load_run(run_dir).cells
    assert all(any(t.kind == "event-loop" for t in c.server_thread_cores) for c in windows if c.valid)
