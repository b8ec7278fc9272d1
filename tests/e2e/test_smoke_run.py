"""The smoke preset, for real: real uvicorn on 3.14 and 3.14t, real Locust, real run.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from loadtests.analysis.run_analysis import analyse
from loadtests.core.exit_status import ExitStatus
from loadtests.results.history import list_runs
from loadtests.results.store import load_run, load_summary
from tests.conftest import PROJECT_ROOT, lab_env, load_run_json, require_setup, run_dir_from, run_lab
from tests.e2e.processes import describe, started_by

FILE_READS = Path(__file__).with_name("file_reads.py")

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


def test_every_server_loaded_its_modules_from_the_bytecode_the_lab_compiled(smoke_run_dir: Path) -> None:
    """Whatever the shell says about bytecode, the servers load the app and its libraries from the lab's prefix."""
    run = load_run(smoke_run_dir)
    for label, state in run.bytecode.items():
        assert state.state == "compiled" and state.dont_write_bytecode, label
        assert {t.kind for t in state.trees} == {"stdlib", "site-packages", "app"}
        assert all(t.files > 0 and t.failed == 0 for t in state.trees)
    for cell in run.cells:
        report = cell.runtime_before.bytecode if cell.runtime_before else None
        assert report is not None and report.pycache_prefix == run.bytecode[cell.config.interpreter].cache_prefix
        assert report.from_source == 0 and report.from_bytecode > 100, report.source_modules


def test_the_report_reads_the_runners_run_json_and_the_summary_is_paired(smoke_run_dir: Path) -> None:
    run = load_run(smoke_run_dir)  # the one typed reader every renderer uses
    counted = [c for c in run.cells if not c.superseded]  # a noisy window measured again stands in its place
    assert len(counted) == 4 and {c.block for c in counted} == {0, 1}  # two blocks: A B, then B A
    assert [c.slot for c in counted if c.block == 0] == [0, 1]
    assert all(c.noisy for c in run.cells if c.superseded) and all(c.drain_s is not None for c in run.cells)
    assert {c.hash_seed for c in counted} and all(c.hash_seed for c in counted)
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


def test_compare_reads_nothing_back_after_the_run_wrote_it(tmp_path: Path) -> None:
    """summary.json, the history, the --expect verdicts, the reports and the terminal all come from memory."""
    require_setup()
    out, log = tmp_path / "results", tmp_path / "files.log"
    # Three pairs keep the t interval's lower end (the bound's side) far above 0.02 on a noisy machine.
    result = subprocess.run([sys.executable, str(FILE_READS), str(log), "compare", "--preset", "smoke",
                             "--repeats", "3", "--out", str(out), "--expect", "json:3.14t/3.14>=0.02",
                             "--expect", "json@uvicorn,u8:3.14t/3.14<=20"],
                            cwd=PROJECT_ROOT, env=lab_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == ExitStatus.PASS, result.stdout + result.stderr
    (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
    events = log.read_text().splitlines()
    run_json = f"{run_dir.resolve()}/run.json"
    first_write = events.index(f"wrote {run_json}")
    assert [e for e in events[first_write:] if e.startswith("read ")] == [], events
    # ... and yet everything a compare writes is there, from that one analysis
    assert result.stdout.startswith(f"run {run_dir.name} (smoke), ") and "claims: C1" in result.stdout
    assert "2 passed: exit status 0" in result.stderr and result.stderr.count("  PASS     json") == 2
    assert {p.name for p in run_dir.iterdir()} >= {"run.json", "summary.json", "report.html", "report.md"}
    (entry,) = list_runs(out)
    assert entry.run_id == run_dir.name and entry.complete and entry.headlines[0].scenario == "json"
    checked = run_lab("check", str(run_dir), "--expect", "json:3.14t/3.14>=50", check=False)
    assert checked.returncode == ExitStatus.FAILED and "is not >= 50" in checked.stdout
