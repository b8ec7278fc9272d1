"""diagnosis.py: each rule on a constructed run, from the real paired smoke fixture with its signals set by hand.

The fixture has one comparison (json, uvicorn, 8 users, 2 usable cores, 3.14 vs 3.14t,
two blocks of A B B A). Every test sets what the windows measured (CPU per thread,
throughput, latency, GIL state) and checks which finding the rules draw, with its
evidence and the change it names.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from loadtests.analysis.diagnosis import Finding, diagnose
from loadtests.results.records import (
    AppInspection,
    Cell,
    GilCulprit,
    GilRemedy,
    Preflight,
    PreflightRequest,
    PreflightTask,
    RouteInfo,
    RunRecord,
    ServiceEnvironment,
    ServiceRef,
    ServiceSettings,
    ThreadCores,
)
from loadtests.results.store import load_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"


def window(cell: Cell, rps: float, latency_ms: float, loop: float, workers: float, client: float = 0.05,
           **changes: Any) -> Cell:
    """A valid window that measured these figures (server CPU = loop + workers)."""
    threads = (ThreadCores("python", 1, loop), ThreadCores("AnyIO worker th", 8, workers),
               ThreadCores("libuv-worker", 4, 0.0))
    assert cell.latency_ms is not None
    return replace(cell, rps=rps, server_cpu_cores=round(loop + workers, 3), client_cpu_cores=client,
                   latency_ms=replace(cell.latency_ms, mean=latency_ms),
                   server_thread_cores=tuple(sorted(threads, key=lambda t: -t.cores)), **changes)


def shaped(gil: dict[str, Any], ft: dict[str, Any], run: RunRecord | None = None) -> RunRecord:
    run = run or load_run(FIXTURE)
    return replace(run, cells=tuple(window(c, **(ft if c.free_threaded else gil)) for c in run.cells))


def findings(run: RunRecord) -> dict[str, Finding]:
    (only,) = diagnose(run)
    assert (only.scenario, only.server) == ("json", "uvicorn")
    return {f.code: f for f in only.findings}


def service(**changes: Any) -> ServiceSettings:
    """A team's FastAPI service whose Locust file reached POST /cart/quote, an async def with a body model."""
    routes = (RouteInfo("/search", "http", ("GET",), "shop.search", False, None),
              RouteInfo("/cart/quote", "http", ("POST",), "shop.quote", True, "Cart"),
              RouteInfo("/orders", "http", ("POST",), "shop.order", False, "Order"),
              RouteInfo("/docs", "http", ("GET",), "fastapi.docs", True, None))
    inspection = {label: AppInspection(label, None, routes, label == "3.14", ()) for label in ("3.14", "3.14t")}
    reached = (PreflightTask("Buyer", "quote", (PreflightRequest("POST", "/cart/quote", "/cart/quote", 200, None,
                                                                 "/cart/quote"),), None),
               PreflightTask("Browser", "search", (PreflightRequest("GET", "/search", "/search", 200, None,
                                                                    "/search"),), None))
    envs = {label: ServiceEnvironment(label, f"/envs/own-{label}", True, f"/envs/own-{label}/bin/python",
                                      f"/envs/own-{label}/requirements.lock", "ab" * 32) for label in ("3.14", "3.14t")}
    settings = ServiceSettings(app="shop.main:app", app_dir="/srv/shop", requirements="/srv/shop/requirements.txt",
                               locustfile="/srv/shop/locustfile.py", environments=envs, differences=(),
                               inspections=inspection, user_classes=(), preflight=tuple(
                                   Preflight(label, "uvicorn", reached, 1.0) for label in ("3.14", "3.14t")))
    return replace(settings, **changes)


def with_service(run: RunRecord, settings: ServiceSettings) -> RunRecord:
    ref = ServiceRef(settings.app, "ab" * 32, "cd" * 32)
    return replace(run, settings=replace(run.settings, service=settings, team_scenarios=("json",)),
                   cells=tuple(replace(c, config=replace(c.config, service=ref)) for c in run.cells))


def test_a_saturated_event_loop_names_the_async_route_the_load_reached() -> None:
    run = with_service(shaped(gil={"rps": 40, "latency_ms": 190, "loop": 0.95, "workers": 0.05},
                              ft={"rps": 41, "latency_ms": 185, "loop": 0.97, "workers": 0.06}), service())
    found = findings(run)
    loop = found["event-loop"]
    assert "python" in loop.detail and "0.97 cores" in loop.detail and "1.03 of the 2 cores" in loop.detail
    assert "POST /cart/quote is `async def` (shop.quote)" in loop.detail and "body Cart" in loop.detail
    assert "/docs" not in loop.detail  # async, but the load never reached it
    assert "make shop.quote a plain `def`" in loop.change
    assert "per-core-cost" not in found and "scales" not in found


def test_a_body_model_parsed_on_the_loop_is_named_for_a_sync_route() -> None:
    reached = (PreflightTask("Buyer", "order", (PreflightRequest("POST", "/orders", "/orders", 200, None,
                                                                 "/orders"),), None),)
    settings = service(preflight=(Preflight("3.14t", "uvicorn", reached, 1.0),))
    run = with_service(shaped(gil={"rps": 40, "latency_ms": 190, "loop": 0.9, "workers": 0.3},
                              ft={"rps": 45, "latency_ms": 170, "loop": 0.92, "workers": 0.35}), settings)
    loop = findings(run)["event-loop"]
    assert "parses and validates the body Order of /orders on the loop" in loop.detail
    assert "validate it inside the endpoint" in loop.change


def test_a_starved_server_whose_only_busy_thread_is_the_loop_is_still_loop_bound() -> None:
    """Other processes gave the server half a core, but the worker threads did nothing while requests queued."""
    run = shaped(gil={"rps": 20, "latency_ms": 390, "loop": 0.48, "workers": 0.02},
                 ft={"rps": 20, "latency_ms": 395, "loop": 0.49, "workers": 0.03})
    loop = findings(run)["event-loop"]
    assert "94% of the server's work" in loop.detail
    assert "no route table" in loop.detail  # the lab's own app: the cause cannot be read from a route table


def test_the_worker_threads_doing_the_work_is_not_an_event_loop_finding() -> None:
    run = shaped(gil={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9},
                 ft={"rps": 21, "latency_ms": 380, "loop": 0.08, "workers": 1.78})
    found = findings(run)
    assert "event-loop" not in found and "under-loaded" not in found


def test_the_gil_coming_back_names_the_module_its_distribution_and_the_remedy() -> None:
    culprit = GilCulprit("gil_lab_trap", "gil-lab-trap", "0.1", "/envs/x/gil_lab_trap.so",
                         ("audit: importing app.main:app",),
                         (GilRemedy("upgrade", "Upgrade gil-lab-trap to a release that declares support."),
                          GilRemedy("python_gil_0", "PYTHON_GIL=0 keeps the GIL off. Risk: races.")))
    run = shaped(gil={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9},
                 ft={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9, "gil_enabled": True,
                     "gil_enabled_by": ("gil_lab_trap",), "valid": False,
                     "invalid_reason": "GIL enabled on the free-threaded build by gil_lab_trap"})
    gil = findings(replace(run, gil_culprits=(culprit,)))["gil-reenabled"]
    assert "gil_lab_trap (from gil-lab-trap 0.1)" in gil.title
    assert "4 of 4 3.14t windows reported the GIL on" in gil.detail
    assert "Upgrade gil-lab-trap" in gil.change and "Risk: races" not in gil.change  # forcing it off is no remedy


def test_three_fourteen_already_using_every_core_leaves_nothing_to_gain() -> None:
    run = shaped(gil={"rps": 10, "latency_ms": 800, "loop": 0.05, "workers": 1.9},
                 ft={"rps": 10, "latency_ms": 800, "loop": 0.05, "workers": 1.92})
    parallel = findings(run)["already-parallel"]
    assert "kept 1.95 of 2 usable cores busy" in parallel.detail and "releases the GIL" in parallel.detail
    assert "Keep 3.14" in parallel.change


def test_fewer_requests_per_busy_core_on_3_14t_is_a_per_request_cost() -> None:
    run = shaped(gil={"rps": 12, "latency_ms": 660, "loop": 0.05, "workers": 0.95},
                 ft={"rps": 14, "latency_ms": 570, "loop": 0.06, "workers": 1.84})
    cost = findings(run)["per-core-cost"]
    assert "7.4 rps per busy core against 12.0 on 3.14 (-39%)" in cost.detail
    assert "shared mutable state" in cost.change


def test_a_saturated_load_generator_is_the_limit() -> None:
    run = shaped(gil={"rps": 900, "latency_ms": 8, "loop": 0.6, "workers": 0.2, "client": 0.95},
                 ft={"rps": 950, "latency_ms": 8, "loop": 0.6, "workers": 0.25, "client": 0.96})
    found = findings(run)
    assert "0.96 cores per process" in found["load-generator"].detail
    assert "--locust-workers" in found["load-generator"].change


def test_think_time_that_leaves_cores_idle_asks_for_more_users() -> None:
    settings = service(user_classes=())
    run = with_service(shaped(gil={"rps": 20, "latency_ms": 30, "loop": 0.1, "workers": 0.5},
                              ft={"rps": 20, "latency_ms": 28, "loop": 0.1, "workers": 0.5}), settings)
    light = findings(run)["under-loaded"]
    assert "on 3.14t only 0.56 requests were in flight" in light.detail and "used 0.60 of 2" in light.detail
    assert "--users 43" in light.change  # 8 users × 2 cores × 1.5 / 0.56 in flight


def test_no_3_14t_environment_says_which_package_and_why() -> None:
    envs = dict(service().environments)
    envs["3.14t"] = replace(envs["3.14t"], python=None, unavailable_package="gil-lab-refuses-ft",
                            unavailable_reason="RuntimeError: cannot be built for free-threaded Python")
    run = load_run(FIXTURE)
    run = replace(run, cells=tuple(c for c in run.cells if not c.free_threaded))
    found = findings(with_service(shaped({"rps": 11, "latency_ms": 700, "loop": 0.05, "workers": 0.9}, {}, run),
                                  service(environments=envs)))
    assert "gil-lab-refuses-ft cannot be installed on 3.14t" in found["no-3.14t"].title
    assert "free-threaded Python" in found["no-3.14t"].detail and "cp314t" in found["no-3.14t"].change


def test_near_ideal_speedup_reads_as_scaling() -> None:
    run = shaped(gil={"rps": 11, "latency_ms": 720, "loop": 0.04, "workers": 0.9},
                 ft={"rps": 21, "latency_ms": 380, "loop": 0.05, "workers": 1.85})
    found = findings(run)
    assert set(found) == {"scales"}, found
    assert "efficiency" in found["scales"].detail


def test_requests_waiting_for_the_gil_on_3_14_do_not_hide_a_light_load() -> None:
    """3.14's requests queue behind the GIL (more in flight); 3.14t's in-flight count is the load's own."""
    run = shaped(gil={"rps": 16.7, "latency_ms": 98, "loop": 0.11, "workers": 0.62},
                 ft={"rps": 20.1, "latency_ms": 63, "loop": 0.14, "workers": 0.81})
    light = findings(run)["under-loaded"]
    assert "on 3.14t only 1.27 requests were in flight" in light.detail and "--users 19" in light.change


def test_a_python_gil_0_arm_is_a_risk_and_never_the_headline() -> None:
    run = shaped(gil={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9},
                 ft={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9, "gil_enabled": True,
                     "gil_enabled_by": ("gil_lab_trap",), "valid": False, "invalid_reason": "GIL enabled"})
    forced = tuple(replace(c, config=replace(c.config, python_gil="0"), gil_enabled=False, gil_enabled_by=(), valid=True,
                           invalid_reason=None, rps=20.0, config_id=c.config_id.replace("gil-default", "gil-0"),
                           id=c.id.replace("gil-default", "gil-0")) for c in run.cells if c.free_threaded)
    culprit = GilCulprit("gil_lab_trap", "gil-lab-trap", "0.1", None, ("audit",),
                         (GilRemedy("python_gil_0", "PYTHON_GIL=0 keeps the GIL off. Risk: races under load."),))
    run = replace(run, cells=run.cells + forced, gil_culprits=(culprit,))
    found = findings(run)
    risk = found["python-gil-0"]
    assert "PYTHON_GIL=0 against 3.14: 1.82×" in risk.detail and "gil_lab_trap (from gil-lab-trap 0.1)" in risk.detail
    assert "Risk: races under load" in risk.change
    assert "scales" not in found  # the forced arm is not the headline: the default arm had no valid window


def test_team_scenarios_get_no_claim_verdict() -> None:
    from loadtests.analysis.claims import NOT_MEASURED, evaluate_claims

    run = shaped(gil={"rps": 11, "latency_ms": 720, "loop": 0.05, "workers": 0.9},
                 ft={"rps": 21, "latency_ms": 380, "loop": 0.05, "workers": 1.85})
    assert evaluate_claims(run).row("C2").status != NOT_MEASURED
    team = with_service(run, service())
    assert {r.status for r in evaluate_claims(team).rows} == {NOT_MEASURED}
    assert "scales" in findings(team)  # the diagnosis still reads it


def test_a_busy_loop_below_saturation_states_the_ceiling_it_puts_on_one_process() -> None:
    run = with_service(shaped(gil={"rps": 24, "latency_ms": 250, "loop": 0.21, "workers": 0.7},
                              ft={"rps": 38, "latency_ms": 120, "loop": 0.3, "workers": 1.27}), service())
    found = findings(run)
    ceiling = found["loop-ceiling"]
    assert ceiling.title == "the event loop caps one process at about 127 rps"  # 38 rps / 0.30 cores of the loop
    assert "POST /cart/quote is `async def` (shop.quote)" in ceiling.detail
    assert "make shop.quote a plain `def`" in ceiling.change and "event-loop" not in found


def pooled(cell: Cell, rps: float, latency_ms: float, pool: float, loop: float, kinds: bool) -> Cell:
    """A window of a service that runs its queries in its own ThreadPoolExecutor of 8 threads."""
    threads = (ThreadCores("ThreadPoolExecu", 8, pool, "executor" if kinds else None),
               ThreadCores("python", 1, loop, "event-loop" if kinds else None),
               ThreadCores("AnyIO worker th", 8, 0.02, "anyio-worker" if kinds else None))
    assert cell.latency_ms is not None
    return replace(cell, rps=rps, server_cpu_cores=round(pool + loop + 0.02, 3), client_cpu_cores=0.05,
                   latency_ms=replace(cell.latency_ms, mean=latency_ms), server_thread_cores=threads)


def test_an_apps_own_pool_is_never_taken_for_the_event_loop_and_no_finding_contradicts_another() -> None:
    """The pool's 8 threads, cut by the kernel to one name, did the work: 26.9 rps on 3.14t, scaling."""
    for kinds in (True, False):
        run = load_run(FIXTURE)
        run = replace(run, cells=tuple(
            pooled(c, 26.9, 290, 1.62, 0.1, kinds) if c.free_threaded else pooled(c, 13.5, 580, 0.9, 0.05, kinds)
            for c in run.cells))
        found = findings(run)
        assert "loop-ceiling" not in found and "event-loop" not in found, (kinds, found.keys())
        assert "scales" in found
        if kinds:  # the loop, as the layer named it, used 0.1 cores: a ceiling far above what was served
            (only,) = diagnose(run)
            assert not any("ThreadPoolExecu" in f.detail for f in only.findings)


def test_a_finding_that_a_stronger_one_contradicts_is_dropped() -> None:
    from loadtests.analysis.diagnosis import consistent
    from loadtests.analysis.figures.diagnosis import Finding

    kept = consistent([Finding("loop-ceiling", "t", "d", "c"), Finding("scales", "t", "d", "c"),
                       Finding("per-core-cost", "t", "d", "c")])
    assert [f.code for f in kept] == ["scales", "per-core-cost"]


def test_every_finding_carries_its_figures() -> None:
    run = shaped(gil={"rps": 12, "latency_ms": 660, "loop": 0.05, "workers": 0.95},
                 ft={"rps": 14, "latency_ms": 570, "loop": 0.06, "workers": 1.84})
    cost = findings(run)["per-core-cost"]
    assert cost.evidence == {"rps_per_core_3.14t": 7.37, "rps_per_core_3.14": 12.0, "change": -0.386}
    assert "without a profile the lab cannot say which" in cost.detail
