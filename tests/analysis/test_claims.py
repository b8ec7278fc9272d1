"""claims.py: each claim's verdict from synthetic runs whose physics is known (conftest_report)."""

from __future__ import annotations

import copy

import pytest

from loadtests.analysis import claims as C
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run


def _table(**kw: object) -> C.ClaimsTable:
    return C.evaluate_claims(parse_run(make_run(**kw)))  # type: ignore[arg-type]


def test_full_run_on_two_cores() -> None:
    t = _table()
    assert [r.id for r in t.rows] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    c1 = t.row("C1")
    # near-ideal scaling, but only 2 cores: the 4-core figure is bounded, hence "partly"
    assert c1.status == C.PARTLY and "bounded by 2 cores" in c1.verdict and "pure, 2 threads" in c1.measured
    # every CPU-bound pair scales against its own ideal: image's 3.14 baseline already keeps
    # 1.3 cores busy (Pillow releases the GIL), so its ideal is 2 / 1.3, not 2
    c2 = t.row("C2")
    assert c2.status == C.PARTLY and "bounded by 2 cores" in c2.verdict
    assert "json/uvicorn u8" in c2.measured and "faster" in c2.measured
    c3 = t.row("C3")  # 7% single-thread cost in the model: each figure has its interval, the narrowest decides
    assert c3.status == C.REPRODUCED and "microbench pure, 1 thread: +" in c3.measured
    assert "HTTP json/uvicorn 1 user: +" in c3.measured and "% (95% CI " in c3.measured and "narrowest" in c3.verdict
    c4 = t.row("C4")  # 17% more memory in the model: one pair per scenario and server, RSS at peak
    assert c4.status == C.REPRODUCED and "json/uvicorn u8: peak RSS +17%" in c4.measured
    assert c4.measured.count("peak RSS") == 8  # json, compute, image, async × uvicorn, granian
    c5 = t.row("C5")  # the trap's module is named from its warning, and its windows were served without a failure
    assert c5.status == C.REPRODUCED and "_lab_trap_ext" in c5.measured and "only a RuntimeWarning" in c5.verdict
    c6 = t.row("C6")
    assert c6.status == C.REPRODUCED and "PYTHON_GIL=1: GIL on in 3/3 cells" in c6.measured
    assert [i.modules for i in t.incidents] == [("_lab_trap_ext",)] and t.incidents[0].deliberate


def test_four_cores_reproduce_c1() -> None:
    assert _table(cores=4, thread_counts=[1, 2, 4, 8]).row("C1").status == C.REPRODUCED


def test_missing_sections_say_not_measured() -> None:
    t = _table(microbench=False, trap=False, gil_toggle=False, users=(8,))
    assert t.row("C1").status == C.NOT_MEASURED and "gil-lab threads" in t.row("C1").measured
    assert t.row("C3").status == C.NOT_MEASURED  # no microbench, no 1-user cells
    assert t.row("C5").status == C.NOT_MEASURED and t.row("C6").status == C.NOT_MEASURED
    assert t.incidents == ()


def test_memory_over_the_bar_is_not_reproduced() -> None:
    doc = make_run(microbench=False)
    for cell in doc["cells"]:
        if cell["interpreter"] == "3.14t":
            cell["server_rss_mb_peak"] *= 1.3  # ~ +52%
    row = C.evaluate_claims(parse_run(doc)).row("C4")
    assert row.status == C.NOT_REPRODUCED and "above the 20% bar" in row.verdict


def test_unexpected_gil_incident_is_named_and_python_gil_1_failure_detected() -> None:
    doc = make_run(microbench=False)
    victim = next(c for c in doc["cells"] if c["scenario"] == "json" and c["interpreter"] == "3.14t"
                  and c["python_gil_env"] is None and c["users"] == 8)
    victim.update(gil_enabled=True, gil_enabled_by=["_cbor_ext"], valid=False, invalid_reason="GIL enabled by _cbor_ext")
    for c in doc["cells"]:
        if c["python_gil_env"] == "1":
            c["gil_enabled"] = False
    t = C.evaluate_claims(parse_run(doc))
    assert "_cbor_ext" in t.row("C5").measured and "unexpected in json/uvicorn/3.14t" in t.row("C5").verdict
    assert t.row("C6").status == C.NOT_REPRODUCED and "ran with the GIL off" in t.row("C6").verdict


@pytest.mark.slow
def test_c5_reads_a_stored_audit() -> None:
    doc = make_run(trap=False, microbench=False)
    clean = copy.deepcopy(doc)
    doc["audit"] = {"interpreter": {"label": "3.14t", "free_threaded": True}, "gil_enabled": True,
                    "gil_enabled_by": ["yaml._yaml"]}
    row = C.evaluate_claims(parse_run(doc)).row("C5")
    assert row.status == C.REPRODUCED and "audit (3.14t): GIL re-enabled by yaml._yaml" in row.measured
    clean["audit"] = [{"interpreter": {"label": "3.14t", "free_threaded": True}, "gil_enabled": False}]
    row = C.evaluate_claims(parse_run(clean)).row("C5")
    assert row.status == C.NOT_MEASURED and "no import re-enables the GIL" in row.measured


def test_microbench_points_with_the_wrong_gil_state_are_ignored() -> None:
    doc = make_run()
    for p in doc["microbench"]["points"]:
        if p["variant"] == "3.14t" and p["threads"] == 2:
            p["gil_enabled"] = True  # every 2-thread 3.14t point invalid
    row = C.evaluate_claims(parse_run(doc)).row("C1")
    assert row.status == C.NOT_MEASURED


@pytest.mark.parametrize(("low", "high", "status", "words"), [
    (0.03, 0.09, C.REPRODUCED, "a cost of 6%, within PEP 779's ≤15% bar"),
    (0.10, 0.14, C.REPRODUCED, "within PEP 779's ≤15% bar"),
    (0.12, 0.14, C.REPRODUCED, "outside the published 5%–10%"),
    (0.16, 0.30, C.NOT_REPRODUCED, "exceeds PEP 779's 15% bar"),
    (-0.12, -0.04, C.NOT_REPRODUCED, "3.14t was faster single-threaded here"),
    (-0.02, 0.06, C.INCONCLUSIVE, "spans no cost"),
    (0.10, 0.20, C.INCONCLUSIVE, "spans PEP 779's 15% bar"),
])
def test_the_cost_is_judged_on_its_interval(low: float, high: float, status: str, words: str) -> None:
    verdict = C._cost_verdict(C.Cost("HTTP json/uvicorn 1 user", (low + high) / 2, low, high))
    assert verdict[0] == status and words in verdict[1]
    assert C._cost_verdict(C.Cost("x", 0.07, None, None))[0] == C.INCONCLUSIVE  # no interval, no verdict


def test_wide_intervals_are_inconclusive_not_verdicts() -> None:
    doc = make_run(users=(8,))  # no 1-user pairs: the noisy microbenchmark is the only single-thread figure
    rng = iter([0.3, 1.7, 1.0] * 200)
    for p in doc["microbench"]["points"]:
        p["ops_per_s"] *= next(rng)  # ±70% noise: no microbench figure is significant
        p["cpu_cores"] = 1.1 if p["threads"] > 1 else 0.99
    doc["microbench"]["summary"] = [{"workload": "pure", "variant": "3.14t", "threads": 2, "cpu_cores": 1.1}]
    t = C.evaluate_claims(parse_run(doc))
    c1 = t.row("C1")
    assert c1.status == C.INCONCLUSIVE and "got only 1.10 CPU cores" in c1.measured
    c3 = t.row("C3")
    assert c3.status == C.INCONCLUSIVE and "spans no cost" in c3.verdict


def test_http_pairs_that_are_not_significant_are_inconclusive() -> None:
    doc = make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), repeats=2, trap=False, gil_toggle=False,
                   microbench=False, invalid_crash=False)
    for c in doc["cells"]:  # the real smoke run's shape: two repeats far apart
        if c["interpreter"] == "3.14t":
            c["rps"] = 17.6 if c["repeat"] == 0 else 27.8
        elif c["parallelism"] == "threads":
            c["rps"] = 43.0 if c["repeat"] == 0 else 41.0
    row = C.evaluate_claims(parse_run(doc)).row("C2")
    assert row.status == C.INCONCLUSIVE and "not significant" in row.measured


def test_gil_incident_shows_the_collapse_beside_valid_cells_and_refusals_are_listed() -> None:
    doc = make_run(microbench=False)
    refused = copy.deepcopy(next(c for c in doc["cells"] if c["scenario"] == "gil-trap" and c["free_threaded"]))
    refused.update(id="gil-trap/granian/r0", config_id="gil-trap/granian", server="granian", valid=False, rps=None,
                   outcome="refused", invalid_reason="granian refused to start: Cannot run ... with GIL enabled")
    doc["cells"].append(refused)
    run = parse_run(doc)
    incident = C.evaluate_claims(run).incidents[0]
    gil_on = [c["rps"] for c in doc["cells"] if c["config_id"] == incident.config_id]
    assert incident.rps_gil_on == pytest.approx(sum(gil_on) / len(gil_on))
    assert [label for label, _ in incident.references] == ["gil-trap 3.14"]
    from loadtests.analysis.configs import summarize_configs

    assert C.refusals(summarize_configs(run)) == [("gil-trap/granian", refused["invalid_reason"])]


def test_efficiency_counts_the_cores_the_baseline_already_used() -> None:
    from loadtests.analysis.configs import comparisons, summarize_configs

    run = parse_run(make_run(scenarios=("json", "image"), servers=("uvicorn",), users=(8,), trap=False,
                             gil_toggle=False, microbench=False, invalid_crash=False))
    comps = [c for c in comparisons(run, summarize_configs(run)) if c.kind == "3.14t vs 3.14"]
    by = {c.scenario: c for c in comps}
    for c in comps:
        assert c.baseline.server_cpu_cores is not None and c.ideal is not None and c.efficiency is not None
        assert c.ideal == pytest.approx(2 / c.baseline.server_cpu_cores.mean)
        assert c.efficiency == pytest.approx(c.speedup.ratio / c.ideal)
    # json's 3.14 baseline used one core: the ideal is about 2x; image's already used more
    assert by["json"].ideal == pytest.approx(2.0, rel=0.05) and by["image"].ideal < 1.6


def test_a_python_gil_0_cell_with_the_gil_on_counts_as_on_and_names_the_module() -> None:
    doc = make_run(microbench=False)
    zeros = [c for c in doc["cells"] if c["python_gil_env"] == "0"]
    if not zeros:  # the synthetic run has no PYTHON_GIL=0 arm: make one from the default 3.14t cells
        for c in [c for c in doc["cells"] if c["interpreter"] == "3.14t" and c["python_gil_env"] is None][:2]:
            zero = copy.deepcopy(c)
            zero.update(python_gil_env="0", config_id=c["config_id"].replace("gil-default", "gil-0"),
                        id=c["id"].replace("gil-default", "gil-0"))
            doc["cells"].append(zero)
            zeros.append(zero)
    zeros[0].update(gil_enabled=True, gil_enabled_by=["_cbor_ext"], valid=False, invalid_reason="GIL enabled")
    row = C.evaluate_claims(parse_run(doc)).row("C6")
    assert row.status == C.NOT_REPRODUCED and f"PYTHON_GIL=0: GIL off in {len(zeros) - 1}/{len(zeros)}" in row.measured
    assert "turned on by _cbor_ext" in row.verdict


def test_c5_needs_both_halves_the_gil_back_and_only_a_warning() -> None:
    doc = make_run(microbench=False)
    for c in doc["cells"]:
        if c["scenario"] == "gil-trap" and c["free_threaded"]:
            c["failures"] = c["requests"]  # the app broke: more than a warning
    row = C.evaluate_claims(parse_run(doc)).row("C5")
    assert row.status == C.PARTLY and "did not go on unaffected" in row.verdict
