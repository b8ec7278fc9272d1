"""The smoke preset, for real: real uvicorn on 3.14 and 3.14t, real Locust, real run.json."""

from __future__ import annotations

from pathlib import Path

import psutil

from loadtests.analysis.run_analysis import analyse
from loadtests.results.store import load_run, load_summary
from tests.conftest import load_run_json, run_dir_from, run_lab
from tests.e2e.processes import describe, started_by

REQUIRED_CELL_FIELDS = {
    "interpreter", "free_threaded", "gil_enabled", "python_gil_env", "server", "workers", "threads", "scenario",
    "users", "repeat", "valid", "invalid_reason", "rps", "latency_ms", "failures", "server_cpu_cores",
    "server_rss_mb_peak", "client_cpu_cores", "rps_series",
}


def test_smoke_run_has_valid_cells_for_both_interpreters(smoke_run_dir: Path) -> None:
    run = load_run_json(smoke_run_dir)
    assert run["schema_version"] >= 1 and run["complete"] is True
    assert {"cpu_model", "cpu_count", "affinity", "os", "git_sha"} <= set(run["machine"])
    assert {"3.14", "3.14t"} <= set(run["interpreters"])
    cells = run["cells"]
    assert {c["interpreter"] for c in cells} == {"3.14", "3.14t"}
    for cell in cells:
        assert set(cell) >= REQUIRED_CELL_FIELDS, REQUIRED_CELL_FIELDS - set(cell)
        assert cell["valid"], cell["invalid_reason"]
        assert cell["rps"] > 0 and cell["failures"] == 0
        assert {"p50", "p95", "p99"} <= set(cell["latency_ms"])
        assert cell["free_threaded"] is (cell["interpreter"] == "3.14t")
        assert cell["gil_enabled"] is (cell["interpreter"] == "3.14"), cell["runtime_before"]
        assert cell["server_rss_mb_peak"] > 0 and cell["server_cpu_cores"] > 0
        for name in ("locust_csv", "locust_history", "locust_html", "server_log"):
            assert (smoke_run_dir / cell["files"][name]).is_file(), name


def test_the_report_reads_the_runners_run_json_and_the_summary_is_paired(smoke_run_dir: Path) -> None:
    run = load_run(smoke_run_dir)  # the one typed reader every renderer uses
    assert len(run.cells) == 8 and {c.block for c in run.cells} == {0, 1}  # two blocks of A B B A
    assert [c.slot for c in run.cells if c.block == 0] == [0, 1, 2, 3]
    assert {w.config_id for w in run.warmups} == {c.config_id for c in run.cells}
    assert run.comparisons and run.comparisons[0].stopping == "fixed pairs"
    assert all(c.server_pss_mb_peak and c.server_thread_cores for c in run.cells)
    summary = load_summary(smoke_run_dir)
    (entry,) = [c for c in summary.comparisons if c.kind == "interpreter"]
    assert entry.paired and entry.n_pairs == 2 and entry.ratio and entry.ci_low is not None
    assert entry.candidate.label == "3.14t uvicorn w1 t8" and entry.baseline.label == "3.14 uvicorn w1 t8"
    assert entry.verdict in ("faster", "slower", "not significant")
    analysis = analyse(run)
    assert analysis.comparisons and analysis.comparisons[0].paired


def test_the_run_audits_the_app_on_the_free_threaded_build(smoke_run_dir: Path) -> None:
    audit = load_run_json(smoke_run_dir)["audit"]
    assert audit["interpreter"]["free_threaded"] is True
    assert audit["gil_enabled"] is False and audit["verdict"] == "clean", audit["verdict"]
    run_lab("report", str(smoke_run_dir))
    assert "audit (3.14t): no import re-enables the GIL" in (smoke_run_dir / "report.md").read_text()


def test_nothing_outlives_a_normal_run(smoke_run_dir: Path) -> None:
    leftovers = started_by(smoke_run_dir)
    assert not leftovers, describe(leftovers)
    for cell in load_run_json(smoke_run_dir)["cells"]:
        for pid in [cell["server_pid"], *cell.get("client_pids", [])]:
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_distributed_locust_gives_the_same_fields(smoke_run_dir: Path, tmp_path: Path) -> None:
    """--locust-workers 2: one master and two worker processes, identical result fields."""
    run_dir = run_dir_from(run_lab("run", "--preset", "smoke", "--repeats", "1", "--locust-workers", "2",
                                   "--out", str(tmp_path)))
    run = load_run_json(run_dir)
    single = load_run_json(smoke_run_dir)["cells"][0]
    assert run["settings"]["locust_workers"] == 2
    for cell in run["cells"]:
        assert cell["valid"], cell["invalid_reason"]
        assert set(cell) == set(single)
        assert len(cell["client_pids"]) == 3  # master + 2 workers
        assert cell["rps"] > 0 and cell["failures"] == 0
    assert not started_by(run_dir)
