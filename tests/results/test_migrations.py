"""migrations.py: every run.json the lab ever wrote still loads, and newer ones are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.core.errors import ResultsError
from loadtests.results.migrations import migrate
from loadtests.results.records import SCHEMA_VERSION, AuditOutcome, Microbench, StepFailure
from loadtests.results.store import load_run, parse_run
from tests.fixtures.synthetic_runs import make_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"
V1 = sorted((FIXTURES / "v1").glob("*.json"))


def test_there_are_version_1_fixtures_written_by_the_real_runner() -> None:
    assert {p.stem for p in V1} >= {"smoke", "gil-trap", "default-lite"}


@pytest.mark.parametrize("path", V1, ids=lambda p: p.stem)
def test_every_version_1_file_loads_and_keeps_its_figures(path: Path) -> None:
    raw = json.loads(path.read_text())
    run = load_run(path)
    assert run.schema_version == SCHEMA_VERSION and run.run_id == raw["run_id"]
    assert len(run.cells) == len(raw["cells"])
    for old, new in zip(raw["cells"], run.cells, strict=True):
        assert (new.valid, new.rps, new.outcome, new.repeat) == (old["valid"], old["rps"], old["outcome"],
                                                                  old["repeat"])
        # version 3 ids name the drop-in directories too: the rest of the identity is unchanged
        assert new.config.config_id == new.config_id and new.config_id.startswith(old["config_id"])
        assert new.id == f"{new.config_id}/r{old['repeat']}"
        if old["latency_ms"]:
            assert new.latency_ms is not None and new.latency_ms.p95 == old["latency_ms"]["p95"]
    assert json.loads(path.read_text()) == raw  # reading never rewrites the file


def test_the_gil_trap_fixture_keeps_its_refusal_and_its_gil_incident() -> None:
    run = load_run(FIXTURES / "v1" / "gil-trap.json")
    refused = [c for c in run.cells if c.outcome == "refused"]
    assert refused and refused[0].refusal and "Cannot run a free-threaded Granian build" in refused[0].refusal
    trapped = [c for c in run.cells if c.gil_enabled_by]
    assert trapped and trapped[0].gil_enabled_by == ("gil_lab_trap",) and not trapped[0].valid


def test_the_default_fixture_keeps_its_microbenchmark_and_audit() -> None:
    run = load_run(FIXTURES / "v1" / "default-lite.json")
    assert isinstance(run.microbench, Microbench) and run.microbench.points
    assert isinstance(run.audit, AuditOutcome) and run.audit.verdict == "clean" and run.audit.interpreter.free_threaded


def test_old_version_1_shapes_are_filled_in() -> None:
    doc = make_run(microbench=True)
    for cell in doc["cells"]:
        for key in ("outcome", "client_pids", "server_sampling"):
            cell.pop(key, None)
    doc["cells"][0]["invalid_reason"] = "granian refused to start: [ERROR] no"
    doc["cells"][0]["valid"] = False
    for point in doc["microbench"]["points"]:
        point.pop("valid", None)
    run = parse_run(doc)
    assert run.cells[0].outcome == "refused" and run.cells[1].outcome == "measured"
    assert run.settings.plan.configs  # rebuilt from the cells: the file predates the stored plan
    assert isinstance(run.microbench, Microbench)
    bad = [p for p in run.microbench.points if p.variant == "3.14t" and p.gil_enabled]
    assert all(not p.valid for p in bad)  # judged by the GIL-state rule the file predates


def test_version_3_ids_name_the_cpu_ids_and_the_drop_in_directories() -> None:
    run = parse_run(make_run(cpu_sweep=(1, 2), trap=False, microbench=False))
    pinned = [c for c in run.cells if c.config.cpus]
    assert {c.config_id.rsplit("/", 1)[-1] for c in pinned} == {"cpus0", "cpus0-1"}
    assert all(c.config.config_id == c.config_id for c in (*pinned, run.cells[0]))
    trap = load_run(FIXTURES / "v1" / "gil-trap.json")
    assert {c.config_id.rsplit("/", 1)[-1] for c in trap.cells if c.config.scenario == "trap"} == {"routes-gil_trap_routes"}


def test_failed_steps_and_audit_lists_migrate() -> None:
    doc = make_run(microbench=False)
    doc["microbench"] = {"error": "worker crashed"}
    doc["audit"] = [{"interpreter": {"label": "3.14", "free_threaded": False}, "gil_enabled": True},
                    {"interpreter": {"label": "3.14t", "free_threaded": True}, "gil_enabled": False}]
    run = parse_run(doc)
    assert run.microbench == StepFailure("worker crashed")
    assert isinstance(run.audit, AuditOutcome) and run.audit.interpreter.label == "3.14t"
    assert run.audit.verdict == "clean"


@pytest.mark.parametrize(("doc", "message"), [
    ({"schema_version": 99, "run_id": "x", "machine": {}, "interpreters": {}, "cells": []}, "newer than this lab"),
    ({"schema_version": 1, "run_id": "x"}, "lacks machine, interpreters, cells"),
    ({"run_id": "x"}, "no valid schema_version"),
    ([], "not a JSON object"),
])
def test_what_cannot_be_read_says_why(doc: object, message: str) -> None:
    with pytest.raises(ResultsError, match=message):
        migrate(doc)


V3 = sorted((FIXTURES / "v3").glob("*.json"))
V4 = sorted((FIXTURES / "v4").glob("*.json"))


@pytest.mark.parametrize("path", V3, ids=lambda p: p.stem)
def test_a_version_3_file_reads_as_closed_loop_on_the_lab_app_with_local_workers(path: Path) -> None:
    raw = json.loads(path.read_text())
    run = load_run(path)
    assert raw["schema_version"] == 3 and run.schema_version == SCHEMA_VERSION
    assert [c.config_id for c in run.cells] == [c["config_id"] for c in raw["cells"]]  # identities unchanged
    assert all(c.config.load_model == "closed" and c.open_loop is None and c.config.service is None for c in run.cells)
    assert run.capacities == () and run.settings.expect_workers == 0 and run.settings.service is None


def test_the_version_4_fixture_was_written_by_the_real_runner_with_open_loop_and_workers() -> None:
    [path] = V4
    assert json.loads(path.read_text())["schema_version"] == 4
    run = load_run(path)
    assert json.loads(path.read_text())["schema_version"] == 4 and run.schema_version == SCHEMA_VERSION
    assert run.safety is None  # version 5 added safety checks; a run before them checked none
    assert run.capacities and all(s.steps for s in run.capacities)
    open_cells = [c for c in run.cells if c.config.load_model == "open"]
    assert open_cells and all(c.open_loop is not None and c.config.target_rps for c in open_cells)
    assert all(c.config_id.endswith(f"/open-poisson-r{c.config.target_rps:g}") for c in open_cells)
    assert all(len(c.load_workers) == 2 and not any(w.remote for w in c.load_workers) for c in open_cells)
    assert run.to_json() == parse_run(run.to_json()).to_json()  # the record round-trips


def test_a_version_4_capacity_search_reads_as_a_bracket_without_an_interval() -> None:
    [path] = V4
    raw = json.loads(path.read_text())
    run = load_run(path)
    for stored, search in zip(raw["capacities"], run.capacities, strict=True):
        assert search.method == "bracket" and search.ci_low is None and search.ci_high is None and search.fit is None
        assert search.max_rps_at_slo == stored["max_rps_at_slo"] and search.phase == "search"
        assert all(step.arrivals is None and step.misses is None and step.phase is None for step in search.steps)
    open_cells = [c for c in run.cells if c.open_loop is not None]
    assert open_cells and all(c.open_loop.over_slo is None and c.open_loop.unanswered is None  # type: ignore[union-attr]
                              for c in open_cells)


def test_a_version_5_safety_run_reads_with_no_crash_hang_or_soak() -> None:
    """gil-lab safety on the race example, as version 5 wrote it (before crashes, hangs and soaks were recorded)."""
    path = FIXTURES / "v5" / "safety-races.json"
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == 5
    run = load_run(path)
    assert run.safety is not None and run.safety.soak is None and run.cells == ()
    assert run.safety.app == "races.main:app" and "GET /greeting" in run.safety.races
    assert json.loads(path.read_text()) == raw  # reading never rewrites the file


V6 = sorted((FIXTURES / "v6").glob("*.json"))


def test_the_version_6_fixture_was_written_by_gil_lab_diagnose_with_its_evidence() -> None:
    """Compute on granian, from source (run 20261206T174747Z-diagnose-e84b): the probe, perf's setup, a profile per
    server with the globals the server held, and every window's threads by kind."""
    from loadtests.analysis import analyse

    [path] = V6
    run = load_run(path)
    assert json.loads(path.read_text())["schema_version"] == 6 and run.schema_version == SCHEMA_VERSION
    assert {p.interpreter for p in run.probes} == {"3.14", "3.14t"} and all(p.endpoints[0].control for p in run.probes)
    assert run.profiling is not None and run.profiling.unwinding == "dwarf"
    assert {p.interpreter for p in run.profiles} == {"3.14", "3.14t"} and all(p.globals for p in run.profiles)
    assert all(t.kind is not None for c in run.cells if c.valid for t in c.server_thread_cores)
    assert run.to_json() == parse_run(run.to_json()).to_json()
    summary = analyse(run).summary
    refcount = next(f for f in summary.diagnosis if f.code == "refcount-contention")
    assert refcount.evidence["global"] == "_MODULUS" and refcount.evidence["immortal"] is False


def test_a_version_4_file_says_its_bytecode_state_is_unknown() -> None:
    [path] = V4
    run = load_run(path)
    assert set(run.bytecode) == set(run.interpreters)
    assert all(state.state == "unknown" and not state.controlled for state in run.bytecode.values())
    assert all(c.runtime_before is None or c.runtime_before.bytecode is None for c in run.cells)
