"""summary.py: summary.json (the analysis's ``summary``) from a real paired run, and from a run measured before pairing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from loadtests.analysis.run_analysis import analyse
from loadtests.results.records import SummaryRecord
from loadtests.results.store import load_run, parse_run
from tests.fixtures.synthetic_runs import make_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"


def test_a_paired_run_gives_paired_entries() -> None:
    run = load_run(FIXTURES / "v3" / "smoke-paired.json")
    summary = analyse(run).summary
    (entry,) = summary.comparisons
    assert entry.kind == "interpreter" and entry.paired and entry.n_pairs == 2
    assert entry.candidate.label == "3.14t uvicorn w1 t8" and entry.baseline.config_id.endswith("/3.14/gil-default/w1/t8/u8")
    assert entry.ratio is not None and entry.ci_low is not None and entry.ci_high is not None
    assert entry.ci_low <= entry.ratio <= entry.ci_high
    assert entry.stopping == "fixed number of pairs (no precision target)"
    assert entry.verdict in ("faster", "slower", "not significant")
    assert SummaryRecord.from_json(json.loads(json.dumps(summary.to_json()))) == summary


def test_an_invalid_side_makes_an_invalid_entry_with_the_reason() -> None:
    run = load_run(FIXTURES / "v3" / "smoke-paired.json")
    broken = replace(run, cells=tuple(replace(c, valid=False, invalid_reason="GIL enabled on the free-threaded "
                                               "build by _yaml") if c.config.interpreter == "3.14t" else c
                                      for c in run.cells))
    (entry,) = analyse(broken).summary.comparisons
    assert entry.verdict == "invalid" and entry.ratio is None and "by _yaml" in str(entry.invalid_reason)


def test_an_unpaired_run_says_so() -> None:
    summary = analyse(parse_run(make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), trap=False,
                                         gil_toggle=False, microbench=False))).summary
    kinds = {c.kind for c in summary.comparisons}
    assert kinds == {"interpreter", "processes"}
    assert all(not c.paired and c.stopping.startswith("unpaired") for c in summary.comparisons)


def test_every_kind_of_comparison_without_a_valid_side_is_listed_as_invalid() -> None:
    doc = make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), trap=False, microbench=False,
                   invalid_crash=False)
    for cell in doc["cells"]:
        if cell["parallelism"] == "processes" or cell["python_gil_env"] == "1":
            cell.update(valid=False, invalid_reason="server crashed (exit -9)")
    entries = analyse(parse_run(doc)).summary.comparisons
    invalid = {c.kind: c for c in entries if c.verdict == "invalid"}
    assert set(invalid) == {"processes", "gil-toggle"}
    assert invalid["processes"].baseline.label == "3.14 uvicorn ×2 proc"
    assert invalid["processes"].invalid_reason == "3.14 uvicorn ×2 proc: server crashed (exit -9)"
    assert invalid["gil-toggle"].candidate.python_gil == "1" and invalid["gil-toggle"].ratio is None
    assert {c.kind for c in entries if c.verdict != "invalid"} == {"interpreter"}


def test_summary_json_carries_every_finding_with_its_evidence_and_the_probe_table() -> None:
    from dataclasses import replace as with_

    from loadtests.analysis import analyse
    from loadtests.results.records import SummaryRecord
    from tests.analysis.test_evidence_rules import run_with
    from tests.analysis.test_probe_table import MODULUS, endpoint, probe, steps

    run = run_with({"eval": 0.6, "interpreter": 0.4}, {"eval": 0.5, "refcount-shared": 0.08, "interpreter": 0.42})
    probes = (probe("3.14", (endpoint("GET /shared", steps(0.008, 0.008, 1.0)),), control_busy=1.0),
              probe("3.14t", (endpoint("GET /shared", steps(0.010, 0.013, 1.9), MODULUS),)))
    run = with_(run, probes=tuple(with_(p, scenario="json") for p in probes))  # the profiled scenario
    summary = analyse(run).summary
    assert SummaryRecord.from_json(summary.to_json()) == summary
    refcount = next(f for f in summary.diagnosis if f.code == "refcount-contention")
    assert (refcount.scenario, refcount.server) == ("json", "uvicorn")
    assert refcount.evidence["profile_share"] == 0.08 and refcount.evidence["probe_efficiency"] is not None
    assert next(f for f in summary.diagnosis if f.code == "contending").server == "probe"
    rows = {(p.interpreter, p.threads): p for p in summary.probe}
    assert set(rows) == {("3.14", 1), ("3.14", 2), ("3.14t", 1), ("3.14t", 2)}
    assert rows[("3.14t", 2)].cpu_growth == 1.3 and rows[("3.14t", 2)].verdict == "contending"
    assert rows[("3.14t", 1)].efficiency is None and rows[("3.14t", 1)].cpu_per_call > 0
    assert {(c.interpreter, c.cause) for c in summary.profile_causes} >= {("3.14t", "refcount-shared")}


def test_each_comparison_reports_its_variance_components_by_instance() -> None:
    import math
    import statistics

    from tests.fixtures.paired_runs import paired_run

    pairs = [(10, 19), (11, 30), (10.5, 20), (9.5, 28), (10, 19.5), (11, 33)]  # the second instance runs faster
    doc = paired_run("two-instances", pairs)
    for cell in doc["cells"]:
        cell["instance"] = cell["block"] % 2  # blocks take turns between two instances
    (entry,) = [c for c in analyse(parse_run(doc)).summary.comparisons if c.kind == "interpreter"]
    assert entry.instances == 2 and entry.log_sd_pairs is not None and entry.log_sd_instances is not None
    logs = [math.log(f / g) for g, f in pairs]
    assert entry.log_sd_pairs < 0.05 < 0.25 < entry.log_sd_instances  # pairs agree within an instance, not across
    assert statistics.stdev(logs) > 0.2 and entry.df == 1.0  # the instances are the unit: one degree of freedom
    assert entry.candidate_log_sd_windows is not None and entry.baseline_log_sd_instances is not None
