"""The rules that read the probe, the profiles and the audit: each finding carries the figures it rests on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loadtests.analysis.diagnosis import diagnose
from loadtests.analysis.evidence_rules import (
    allocator,
    gil_latent,
    locks,
    no_profile,
    probe_findings,
    refcount_contention,
)
from loadtests.analysis.probe_table import endpoint_table
from loadtests.analysis.profile_diff import profile_pairs
from loadtests.results.records import (
    AuditedInterpreter,
    AuditOutcome,
    CauseShare,
    FunctionCost,
    NativeProfile,
    ProfilingSetup,
    PythonFunctionCost,
    PythonProfile,
    RunRecord,
)
from loadtests.results.store import load_run
from tests.analysis.test_probe_table import MODULUS, endpoint, probe, steps

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"
COMPARISON = "json/uvicorn/u8/t8"


def profile(label: str, causes: dict[str, float], requests: int = 100, samples: int = 1000,
            python: PythonProfile | None = None) -> NativeProfile:
    """A profile window whose samples split into ``causes`` (shares), at 199 Hz."""
    shares = tuple(CauseShare(c, round(share * samples), share, round(share * samples / 199 / requests * 1000, 4))
                   for c, share in causes.items())
    functions = tuple(FunctionCost(f"{c}_fn", "python3.14t" if label == "3.14t" else "python3.14", c, s.samples,
                                   s.share, s.cpu_ms_per_request) for c, s in zip(causes, shares, strict=True))
    return NativeProfile(comparison_id=COMPARISON, config_id=f"json/uvicorn/{label}", interpreter=label,
                         scenario="json", server="uvicorn", users=8, duration_s=5.0, requests=requests, rps=20.0,
                         server_cpu_cores=1.8, samples=samples, cpu_ms_per_request=samples / 199 / requests * 1000,
                         causes=shares, functions=functions, threads=(), folded=None, python=python)


SETUP = ProfilingSetup(available=True, reason=None, remedy=None, perf_version="perf 6.1", event="cpu-clock",
                       frequency_hz=199, unwinding="dwarf", stack_bytes=8192, window_s=5.0, python_sampler_hz=99.0)
PYTHON = PythonProfile(hz=99, samples=400, on_cpu=700, errors=0, sampler_cpu_s=0.1, folded=None, functions=(
    PythonFunctionCost("pure (workloads/compute_work.py)", 900.0, 900.0, 0.9),))


def run_with(gil: dict[str, float], ft: dict[str, float], **changes: object) -> RunRecord:
    run = load_run(FIXTURE)
    return replace(run, profiling=SETUP, profiles=(profile("3.14", gil), profile("3.14t", ft, python=PYTHON)),
                   **changes)


def test_shared_reference_counting_names_the_mortal_global_the_probe_found_and_what_to_change() -> None:
    ft_probe = probe("3.14t", (endpoint("GET /shared", steps(0.010, 0.013, 1.9), MODULUS),))
    run = run_with({"eval": 0.6, "interpreter": 0.4}, {"eval": 0.5, "refcount-shared": 0.08, "interpreter": 0.42},
                   probes=(ft_probe,))
    (pair,) = profile_pairs(run)
    found = refcount_contention(pair, endpoint_table(run))
    assert found is not None and found.title == "reference-count contention on a shared object (_MODULUS, not immortal)"
    assert found.evidence["profile_share"] == 0.08 and found.evidence["profile_share_3.14"] == 0.0
    assert found.evidence["probe_cpu_growth"] == 1.3 and found.evidence["probe_verdict"] == "contending"
    assert found.evidence["global"] == "_MODULUS" and found.evidence["immortal"] is False
    assert "a lower bound" in found.detail and "pure (workloads/compute_work.py) (90%" in found.detail
    assert "compileall" in found.change and "local variable" in found.change


def test_with_bytecode_already_compiled_a_mortal_global_is_built_at_run_time_and_compiling_is_not_the_advice() -> None:
    ft_probe = probe("3.14t", (endpoint("GET /shared", steps(0.010, 0.013, 1.9), MODULUS),))
    run = run_with({"eval": 0.6, "interpreter": 0.4}, {"eval": 0.5, "refcount-shared": 0.08, "interpreter": 0.42},
                   probes=(ft_probe,))
    (pair,) = profile_pairs(run)
    said = {state: refcount_contention(pair, endpoint_table(run), state) for state in ("compiled", "source", "unknown")}
    compiled, source, unknown = said["compiled"], said["source"], said["unknown"]
    assert compiled is not None and source is not None and unknown is not None
    assert "loaded from bytecode, so the value is built at run time" in compiled.detail
    assert "compileall" not in compiled.change and "local variable" in compiled.change
    assert compiled.evidence["bytecode"] == "compiled"
    assert "its module was compiled from source, so" in source.detail and "compileall" in source.change
    assert "compiled from source, or the value is built at run time" in unknown.detail
    (contending,) = [f for f in probe_findings(endpoint_table(run), "compiled") if f.code == "contending"]
    assert "compileall" not in contending.change


def test_a_small_shared_share_is_no_finding_and_without_a_global_the_change_says_where_to_look() -> None:
    small = run_with({"eval": 1.0}, {"eval": 0.98, "refcount-shared": 0.02})
    assert refcount_contention(profile_pairs(small)[0], []) is None
    unnamed = run_with({"eval": 1.0}, {"eval": 0.9, "refcount-shared": 0.1})
    found = refcount_contention(profile_pairs(unnamed)[0], [])
    assert found is not None and "global" not in found.evidence and "functools.lru_cache" in found.change


def test_locks_and_the_allocator_are_findings_only_above_3_14s_share() -> None:
    run = run_with({"eval": 0.8, "allocator": 0.2}, {"eval": 0.55, "locks": 0.15, "allocator": 0.3})
    (pair,) = profile_pairs(run)
    lock = locks(pair)
    assert lock is not None and lock.evidence["profile_share"] == 0.15 and "locks_fn" in lock.detail
    alloc = allocator(pair)
    assert alloc is not None and alloc.evidence["ratio"] == 1.5
    same = run_with({"eval": 0.85, "locks": 0.15}, {"eval": 0.9, "locks": 0.1})
    assert locks(profile_pairs(same)[0]) is None


def test_probe_verdicts_become_findings_with_the_probe_s_figures() -> None:
    run = replace(load_run(FIXTURE), probes=(
        probe("3.14", (endpoint("GET /locked", steps(0.008, 0.008, 1.0)),), control_busy=1.0),
        probe("3.14t", (endpoint("GET /locked", steps(0.010, 0.010, 1.0)),), control_busy=1.95)))
    found = {f.code: f for f in probe_findings(endpoint_table(run))}
    assert set(found) == {"serialised", "single-thread-cost"}
    assert found["serialised"].evidence["control_cores"] == 1.95 and found["serialised"].evidence["threads"] == 2
    assert found["single-thread-cost"].evidence["single_thread_cost"] == 1.25


def test_perf_that_could_not_run_is_said_with_its_remedy() -> None:
    setup = replace(SETUP, available=False, reason="perf is not installed", remedy="Install it: apt-get install "
                                                                                   "linux-perf.")
    found = no_profile(replace(load_run(FIXTURE), profiling=setup))
    assert found is not None and found.evidence == {"reason": "perf is not installed"} and "linux-perf" in found.change
    assert no_profile(replace(load_run(FIXTURE), profiling=SETUP)) is None


def test_a_requirement_that_would_turn_the_gil_on_is_told_from_the_servers_that_ran_without_it() -> None:
    audit = AuditOutcome(verdict="requirement-needs-gil", gil_enabled=True, gil_enabled_by=("lxml.etree",),
                         interpreter=AuditedInterpreter("ft", "3.14t", "/py", "3.14.7", True), report={},
                         app_gil_enabled=False, app_enabled_by=(), would_enable=("lxml 5.3: lxml.etree",))
    run = replace(load_run(FIXTURE), audit=audit)
    found = gil_latent(run, "json", "uvicorn")
    assert found is not None and found.evidence["would_enable"] == "lxml 5.3: lxml.etree"
    assert "the app's own import does not load lxml 5.3" in found.detail
    codes = {f.code for d in diagnose(run) for f in d.findings}
    assert "gil-latent" in codes and "gil-reenabled" not in codes


def test_the_servers_own_view_of_a_global_decides_and_a_hot_function_is_matched_to_its_reads() -> None:
    from loadtests.analysis.evidence_rules import mortal_globals
    from loadtests.results.records import EndpointGlobals, GlobalRead

    def served(immortal: bool) -> RunRecord:
        read = GlobalRead("app.workloads.compute_work.pure", "_MODULUS", "int", "1000003", immortal)
        ft = replace(profile("3.14t", {"eval": 0.9, "refcount-shared": 0.1}, python=PYTHON),
                     globals=(EndpointGlobals("/other", "app.other", (read,)),))  # reached only through pure
        return replace(load_run(FIXTURE), profiling=SETUP, profiles=(profile("3.14", {"eval": 1.0}), ft),
                       probes=(probe("3.14t", (endpoint("GET /shared", steps(0.010, 0.010, 2.0), MODULUS),)),))

    source = served(False)
    (pair,) = profile_pairs(source)
    mortal, seen = mortal_globals(pair, [])
    assert [g.name for g in mortal] == ["_MODULUS"] and seen == "the 3.14t server"
    found = refcount_contention(pair, [])
    assert found is not None and found.evidence["immortality_seen_by"] == "the 3.14t server"
    compiled = served(True)  # from a .pyc the server's constant is immortal, whatever the probe's process held
    (pair,) = profile_pairs(compiled)
    assert mortal_globals(pair, endpoint_table(compiled))[0] == []
    found = refcount_contention(pair, endpoint_table(compiled))
    assert found is not None and "global" not in found.evidence and "compileall" not in found.change
