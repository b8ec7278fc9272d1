"""window_measurement.py: one window on a warm server becomes a Cell, valid or marked invalid with its reason.

A fake server and a fake session (recorded runtime answers and latencies) stand in for the
real ones; the end-to-end tests measure real windows.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.layer import faults as layer_faults
from loadtests.measure.arm import Arm
from loadtests.measure.fault_files import FaultWatch, faults_dir
from loadtests.measure.window_measurement import EXTERNAL_SAMPLING, WindowBench, measure_window
from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.results.records import Cell
from loadtests.results.run_writer import RunWriter
from tests.measure.fakes import FakeSampler, FakeServer, FakeSession, fresh_run, recorded_runtime


def setting(tmp_path: Path, **session: object) -> tuple[RunWriter, ComparisonPlan, WindowBench, FakeSession]:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    fake = FakeSession(**session)  # type: ignore[arg-type]
    sampler = FakeSampler()
    sampler.add_tree("server0", [4242], detailed=True)
    return run, comparison, WindowBench(run.run_dir, run.record.settings, fake, sampler), fake  # type: ignore[arg-type]


def window(bench: WindowBench, comparison: ComparisonPlan, interpreter: str, server: FakeServer | None = None,
           log: bool = True) -> Cell:
    config = next(c for c in comparison.arms if c.interpreter == interpreter)
    server = server or FakeServer(recorded_runtime(interpreter))
    log_path = bench.run_dir / "servers" / "s" / "server.log" if log else None
    return measure_window(bench, Arm(config, server, tree="server0", log_path=log_path), comparison, 0, 0, 0)


def test_a_window_on_a_healthy_server_is_a_valid_cell_with_its_figures_and_files(tmp_path: Path) -> None:
    run, comparison, bench, session = setting(tmp_path)
    cell = window(bench, comparison, "3.14t")
    assert cell.valid and cell.outcome == "measured" and cell.invalid_reason is None, cell.invalid_reason
    assert cell.config.interpreter == "3.14t" and cell.comparison_id == comparison.comparison_id
    assert (cell.block, cell.slot, cell.repeat) == (0, 0, 0)
    assert cell.requests > 0 and cell.failures == 0 and cell.rps is not None and cell.rps > 0
    assert cell.latency_ms is not None and 37.9 <= cell.latency_ms.p50 <= 52.3
    assert cell.server_cpu_cores == pytest.approx(0.9, abs=0.05) and cell.server_pss_mb_peak == 120.0
    assert cell.client_cpu_cores == pytest.approx(0.2, abs=0.05) and cell.client_pids == (5151,)
    assert cell.gil_enabled is False and cell.runtime_before == cell.runtime_after
    assert cell.server_pid == 4242 and cell.server_sampling is None and cell.files.server_log == "servers/s/server.log"
    raw = json.loads((run.run_dir / Path(cell.files.locust_csv).parent / "locust_raw.json").read_text())
    assert len(raw["samples"]) == cell.requests  # the samples inside the window, kept raw
    assert (run.run_dir / cell.files.locust_history).read_text().startswith("Timestamp,Requests/s")
    assert session.started == [("http://127.0.0.1:1", 8, None)]  # the configuration's users, closed loop


def test_the_gil_on_in_a_free_threaded_window_makes_it_invalid_and_names_the_module(tmp_path: Path) -> None:
    _, comparison, bench, _ = setting(tmp_path)
    gil_on = replace(recorded_runtime("3.14t"), gil_enabled=True, gil_enabled_by=("gil_lab_trap",))
    cell = window(bench, comparison, "3.14t", FakeServer(gil_on))
    assert not cell.valid and cell.outcome == "measured"
    assert cell.invalid_reason == "GIL enabled on the free-threaded build by gil_lab_trap"
    assert cell.gil_enabled and cell.gil_enabled_by == ("gil_lab_trap",)
    assert cell.rps is not None  # the figures are kept beside the reason, never averaged in


def test_failed_requests_make_a_window_invalid(tmp_path: Path) -> None:
    _, comparison, bench, _ = setting(tmp_path, failing=True)
    cell = window(bench, comparison, "3.14")
    assert not cell.valid and cell.failures == cell.requests > 0
    assert cell.invalid_reason is not None and "requests failed" in cell.invalid_reason


def test_a_server_that_dies_under_load_is_a_crashed_window(tmp_path: Path) -> None:
    _, comparison, bench, session = setting(tmp_path)
    server = FakeServer(recorded_runtime("3.14"))
    session.kill_server_on_start = server
    cell = window(bench, comparison, "3.14", server)
    assert cell.outcome == "crashed" and not cell.valid
    assert cell.invalid_reason == "server crashed during the window (exit status -9)"


def test_a_load_generator_that_refuses_to_start_is_a_client_error(tmp_path: Path) -> None:
    _, comparison, bench, _ = setting(tmp_path, refuses_start="Locust refused to start the users: busy")
    cell = window(bench, comparison, "3.14")
    assert cell.outcome == "client-error"
    assert cell.invalid_reason == "load generator failed: Locust refused to start the users: busy"


def test_a_server_silent_after_the_window_is_invalid(tmp_path: Path) -> None:
    _, comparison, bench, session = setting(tmp_path)
    server = FakeServer(recorded_runtime("3.14t"))
    original = session.stop_load

    def stop_and_go_quiet() -> None:
        original()
        server.runtime_answers = False

    session.stop_load = stop_and_go_quiet  # type: ignore[method-assign]
    cell = window(bench, comparison, "3.14t", server)
    assert cell.runtime_after is None and not cell.valid
    assert cell.invalid_reason == "the server stopped answering /lab/runtime after the window"


def test_an_app_the_lab_did_not_start_is_not_sampled_and_says_so(tmp_path: Path) -> None:
    _, comparison, bench, _ = setting(tmp_path)
    cell = window(bench, comparison, "3.14", FakeServer(recorded_runtime("3.14"), pid=None), log=False)
    assert cell.server_sampling == EXTERNAL_SAMPLING and cell.server_cpu_cores is None
    assert cell.server_pid is None and cell.files.server_log is None and cell.valid


def faulty_server(tmp_path: Path, interpreter: str) -> tuple[FakeServer, layer_faults.InFlightTable]:
    """A fake server whose fault files are the layer's own, written in this process."""
    watch = FaultWatch(faults_dir(tmp_path / "server.log"))
    return FakeServer(recorded_runtime(interpreter), faults=watch), layer_faults.InFlightTable(watch.directory)


def test_a_crashed_window_carries_the_traceback_and_the_requests_in_flight(tmp_path: Path) -> None:
    _, comparison, bench, session = setting(tmp_path)
    server, table = faulty_server(tmp_path, "3.14t")
    table.enter("GET", "/crash")
    (server.faults.directory / f"{table.pid}.faults").write_text(  # type: ignore[union-attr]
        "Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n  File \"m.py\"\n")
    session.kill_server_on_start = server
    cell = window(bench, comparison, "3.14t", server)
    assert cell.outcome == "crashed" and cell.crash is not None
    assert cell.invalid_reason == ("server crashed during the window (exit status -9): Fatal Python error: "
                                   "Segmentation fault, with GET /crash in flight")
    assert cell.crash.fatal == "Fatal Python error: Segmentation fault" and "m.py" in cell.crash.traceback
    assert [r.endpoint for r in cell.crash.in_flight] == ["GET /crash"] and cell.crash.exit_status == -9


def test_a_crash_without_a_traceback_says_what_is_known(tmp_path: Path) -> None:
    _, comparison, bench, session = setting(tmp_path)
    server, _ = faulty_server(tmp_path, "3.14")
    session.kill_server_on_start = server
    cell = window(bench, comparison, "3.14", server)
    assert cell.crash is not None and cell.crash.traceback == "" and "SIGKILL" in cell.crash.fatal


def test_a_request_in_flight_far_longer_than_the_windows_latency_makes_it_hung(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, comparison, bench, _ = setting(tmp_path)
    server, table = faulty_server(tmp_path, "3.14t")
    started = time.time_ns() - 5 * 10**9  # over the floor of the bound: the fake's p99 is about 50 ms
    monkeypatch.setattr(layer_faults.time, "time_ns", lambda: started)
    slot = table.enter("GET", "/deadlock/2")
    monkeypatch.undo()
    cell = window(bench, comparison, "3.14t", server)
    assert cell.outcome == "hung" and not cell.valid and cell.hang is not None
    assert cell.hang.bound_s == 1.0 and [r.endpoint for r in cell.hang.in_flight] == ["GET /deadlock/2"]
    assert cell.hang.stacks == ("(no stacks: the process did not answer the dump signal)",)  # a fake pid
    assert cell.invalid_reason is not None and cell.invalid_reason.startswith("1 request(s) hung: GET /deadlock/2")
    table.leave(slot)
    assert window(bench, comparison, "3.14t", server).valid  # once it ended, nothing is hung
