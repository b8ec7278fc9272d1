"""``summary.json``: the machine-readable verdict of a run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from loadtests.results.record import Record, doc
from loadtests.results.records.capacity import CapacityBounds, CapacityMethod, SearchPhase
from loadtests.results.records.config import Parallelism
from loadtests.results.records.safety import SafetySummary
from loadtests.results.records.version import SCHEMA_VERSION

Verdict = Literal["faster", "slower", "not significant", "invalid"]
ComparisonKind = Literal["interpreter", "processes", "gil-toggle"]


@dataclass(frozen=True)
class ConfigLabel(Record):
    """One side of a comparison: its label and the fields the label is made of."""

    label: str = doc("``<interpreter>[+PYTHON_GIL=<v>] <server> (w<W> t<T> | ×<W> proc[ t<T>])[ cpus<ids>]`` "
                     "(an N-process label names its thread limit when it is not 8), e.g. `3.14t uvicorn w1 t8`, "
                     "`3.14 uvicorn ×2 proc` or `3.14 uvicorn ×2 proc t4`.")
    config_id: str = doc("Its config_id in run.json.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL given to the server, or null.")
    server: str = doc("The server (see CellConfig).")
    parallelism: Parallelism = doc("threads or processes.")
    workers: int = doc("--workers.")
    threads: int = doc("anyio thread limit per event loop.")
    cpus: tuple[int, ...] | None = doc("CPU ids the server was pinned to, or null.")


@dataclass(frozen=True)
class ComparisonSummary(Record):
    """``candidate / baseline`` throughput for one scenario, server and users level."""

    comparison_id: str | None = doc("The comparison in run.json (null for runs measured before pairing).")
    kind: ComparisonKind = doc("interpreter: 3.14t vs 3.14, same settings; processes: 3.14t threads vs 3.14 with N "
                               "worker processes; gil-toggle: 3.14t with PYTHON_GIL=1 vs 3.14t.")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    users: int = doc("Locust users.")
    candidate: ConfigLabel = doc("The side in the numerator.")
    baseline: ConfigLabel = doc("The side in the denominator.")
    ratio: float | None = doc("Candidate ÷ baseline throughput: the geometric mean of the per-pair ratios when "
                              "paired; null when invalid.")
    ci_low: float | None = doc("Lower end of the 95% confidence interval of the ratio.")
    ci_high: float | None = doc("Upper end.")
    paired: bool = doc("True: windows alternated on warm servers, t interval on the log ratios; false: a run "
                       "measured before pairing, ratio of means with a Fieller interval.")
    n_pairs: int = doc("Pairs behind the ratio (repeats per side when not paired).")
    precision_reached: float | None = doc("The interval's half-width relative to the ratio (0.05 = ±5%).")
    precision_target: float | None = doc("The target the comparison alternated towards, or null.")
    stopping: str = doc("Why the alternation ended (see run.json comparisons), with adaptive stopping named.")
    verdict: Verdict = doc("faster or slower (the interval excludes 1), not significant, or invalid (no valid pair).")
    invalid_reason: str | None = doc("Why the comparison is invalid.")
    efficiency: float | None = doc("Ratio ÷ ideal (interpreter comparisons only; see docs/methodology.md).")
    ideal: float | None = doc("Cores the candidate could use ÷ cores the baseline actually used.")
    candidate_cv: float | None = doc("Coefficient of variation of the candidate's windows.")
    baseline_cv: float | None = doc("Coefficient of variation of the baseline's windows.")
    candidate_pss_mb: float | None = doc("Mean peak PSS of the candidate's server tree, MB.")
    baseline_pss_mb: float | None = doc("Mean peak PSS of the baseline's server tree, MB.")
    instances: int = doc("Server instances the pairs came from.", default=1)
    df: float | None = doc("Degrees of freedom of the interval (pairs - 1, or fewer when the instances, not the "
                           "pairs, were the unit).", default=None)
    log_sd_pairs: float | None = doc("Variance components of the log ratio: its standard deviation between pairs "
                                     "of one instance...", default=None)
    log_sd_instances: float | None = doc("... and between instances (0 when they agree; null with one).",
                                         default=None)
    candidate_log_sd_windows: float | None = doc("Variance components of the candidate's log throughput: between its "
                                                 "windows on one instance...", default=None)
    candidate_log_sd_instances: float | None = doc("... and between its instances.", default=None)
    baseline_log_sd_windows: float | None = doc("The same for the baseline: between windows...", default=None)
    baseline_log_sd_instances: float | None = doc("... and between instances.", default=None)
    noisy_windows: int = doc("Windows of the comparison the machine made noisy (measured again, or counted and "
                             "flagged when the allowance was spent).", default=0)


@dataclass(frozen=True)
class CapacitySummary(Record, CapacityBounds):
    """The highest arrival rate a configuration sustains while p95 stays under the SLO, with its 95% interval."""

    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    interpreter: str = doc("3.14 or 3.14t.")
    configuration: str = doc("The configuration's label.")
    config_id: str = doc("Its config_id (without the load model and rate).")
    slo_ms: float = doc("The p95 objective, ms.")
    max_rps_at_slo: float | None = doc("The estimated capacity: where the curve fitted to the search's steps has 5% "
                                       "of the arrivals over the SLO (method fit; method bracket: the highest "
                                       "passing rate). Null: none passed.")
    bracket_low: float | None = doc("The highest passing rate tested at or below it: with bracket_high, the "
                                    "search's resolution (how closely the rates it tried surround the capacity).")
    bracket_high: float | None = doc("The lowest failing rate tested above that (null: no rate failed within the "
                                     "search, so the capacity is a lower bound).")
    p95_ms_at_max: float | None = doc("Corrected p95 of the passing step nearest the capacity.")
    p95_ci_at_max: tuple[float, float | None] | None = doc("That step's 95% interval of its p95 (its own "
                                                           "uncertainty; upper end null when unbounded).")
    rps_per_core: float | None = doc("max_rps_at_slo ÷ the server's busy cores at that step.")
    rps_per_gb: float | None = doc("max_rps_at_slo ÷ the server tree's peak PSS in GB at that step.")
    limited_by: str | None = doc("Set when the search stopped on an invalid window (e.g. the load generator "
                                 "could not offer more): the capacity is then only a lower bound.", default=None)
    ci_low: float | None = doc("Lower end of the capacity's 95% interval: the statistical uncertainty of the fit "
                               "through every step near the capacity (null when none could be computed).",
                               default=None)
    ci_high: float | None = doc("Upper end (null: unbounded, or none computed).", default=None)
    method: CapacityMethod = doc("fit, or bracket for a run recorded before schema version 9 (no interval).",
                                 default="fit")
    arrivals: int = doc("Arrivals over the search's valid steps.", default=0)
    steps: int = doc("Its valid steps.", default=0)
    stopping: str | None = doc("Why the search stopped (see run.json capacities).", default=None)
    phase: SearchPhase = doc("search; screen or confirm in a tuning run (the confirm searches re-measure each "
                             "side's best setting).", default="search")


RatioBound = Literal["measured", "at least", "at most", "unbounded"]


@dataclass(frozen=True)
class CapacityRatio(Record):
    """``candidate / baseline`` capacity at the SLO, with the 95% interval of the ratio."""

    kind: ComparisonKind = doc("interpreter: 3.14t against 3.14 at the same settings; processes: one 3.14t process "
                               "against 3.14 with N worker processes; gil-toggle: 3.14t with PYTHON_GIL=1 against "
                               "3.14t.")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    users: int = doc("The configurations' users setting (open loop does not use it; kept for --expect's u<N>).")
    phase: SearchPhase = doc("search: both searched side by side; confirm: a tuning run's fresh, interleaved "
                             "searches of each side's best setting (best against best); screen: the searches at "
                             "one thread limit of a tuning run (equal settings).")
    candidate: ConfigLabel = doc("The side in the numerator.")
    baseline: ConfigLabel = doc("The side in the denominator.")
    ratio: float | None = doc("Candidate ÷ baseline capacity (null when a side has none).")
    ci_low: float | None = doc("Lower end of its 95% interval, from both capacities' intervals (MOVER on the log "
                               "scale: the searches are independent). Null when a side has no interval.")
    ci_high: float | None = doc("Upper end; null when unbounded.")
    bound: RatioBound | None = doc("measured; at least (the candidate's capacity is a lower bound); at most (the "
                                   "baseline's is); unbounded (both are).")
    invalid_reason: str | None = doc("Why there is no ratio.", default=None)


@dataclass(frozen=True)
class TunedSummary(Record):
    """One side (3.14, 3.14t, 3.14 × N processes) of a capacity run that tried several settings: its best one.

    Two ratios compare 3.14t with this side, and they answer different questions: ``ft_ratio_equal`` at
    equal settings (both at ``equal_threads``: the same app and settings, another interpreter) and
    ``ft_ratio_best`` best against best (each side at its own best setting: what a planner would deploy).
    The best setting is picked on the screening searches; its figures (``max_rps_at_slo``, ``ft_ratio_best``)
    come from the confirm searches that searched the best settings again, side by side, when the run has them
    (``confirmed``): picking the highest of several noisy figures and reporting it would flatter it.
    """

    tuning_id: str = doc("What the sides share: scenario, server and users, and any CPU set, server flags or "
                         "drop-ins (a comparison id of run.json without its thread limit).")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    side: str = doc("3.14, 3.14t or 3.14 × N processes (N: best_workers), with +PYTHON_GIL=<v> when set.")
    interpreter: str = doc("3.14 or 3.14t.")
    parallelism: Parallelism = doc("threads (one process) or processes.")
    slo_ms: float = doc("The p95 objective, ms.")
    best_configuration: str = doc("The label of the best setting: the most capacity at the SLO; ties go to fewer "
                                  "threads, then fewer workers.")
    best_config_id: str = doc("Its config_id (without the load model and rate).")
    best_threads: int = doc("Its anyio thread limit.")
    best_workers: int = doc("Its --workers.")
    max_rps_at_slo: float | None = doc("Its capacity at the SLO: re-measured by the confirm search when confirmed, "
                                       "else the screening search's (null: none passed).")
    lower_bound: bool = doc("True when that search found only a lower bound: its capacity is at least "
                            "max_rps_at_slo.", default=False)
    unsettled: tuple[str, ...] = doc("Other settings whose search stopped on an invalid window below the best: "
                                     "each is only a lower bound, so one of them may be better.", default=())
    threads_tried: tuple[int, ...] = doc("The thread limits this side was searched at.", default=())
    equal_threads: int | None = doc("The thread limit of the equal-settings comparison: 8 (the lab's default) "
                                    "when 3.14t and another side both measured it, else the limit most sides "
                                    "measured beside 3.14t; null when this side has no search there.", default=None)
    equal_configuration: str | None = doc("The label of this side's setting at equal_threads.", default=None)
    rps_at_equal: float | None = doc("Its capacity at the SLO.", default=None)
    equal_lower_bound: bool | None = doc("Whether that capacity is only a lower bound.", default=None)
    ft_ratio_equal: float | None = doc("At equal settings: 3.14t's capacity ÷ this side's, both at equal_threads. "
                                       "Null on the 3.14t side itself and where either is missing or zero.",
                                       default=None)
    ft_ratio_equal_bound: RatioBound | None = doc("measured; at least (3.14t's capacity is a lower bound); at most "
                                                  "(this side's is); unbounded (both are).", default=None)
    ft_ratio_best: float | None = doc("Best against best: 3.14t's capacity at its best setting ÷ this side's at "
                                      "its best. Null on the 3.14t side itself.", default=None)
    ft_ratio_best_bound: RatioBound | None = doc("As ft_ratio_equal_bound; an unsettled setting of either side "
                                                 "counts as a lower bound of its best.", default=None)
    confirmed: bool = doc("Whether the best setting was searched again in the confirm phase (the figures above "
                          "are then the re-measured ones).", default=False)
    screened_rps_at_slo: float | None = doc("The screening search's capacity of the best setting: the figure "
                                            "that picked it.", default=None)
    ci_low: float | None = doc("Lower end of max_rps_at_slo's 95% interval.", default=None)
    ci_high: float | None = doc("Upper end (null: unbounded or none).", default=None)
    equal_ci_low: float | None = doc("Lower end of rps_at_equal's 95% interval.", default=None)
    equal_ci_high: float | None = doc("Upper end.", default=None)
    ft_ratio_equal_ci_low: float | None = doc("Lower end of ft_ratio_equal's 95% interval.", default=None)
    ft_ratio_equal_ci_high: float | None = doc("Upper end (null: unbounded or none).", default=None)
    ft_ratio_best_ci_low: float | None = doc("Lower end of ft_ratio_best's 95% interval (from the confirm "
                                             "searches: they ran side by side).", default=None)
    ft_ratio_best_ci_high: float | None = doc("Upper end (null: unbounded or none).", default=None)


EvidenceValue = bool | int | float | str | None


@dataclass(frozen=True)
class FindingSummary(Record):
    """One finding of the diagnosis: why a scenario scales on 3.14t or not, and the figures it rests on."""

    scenario: str = doc("The scenario.")
    server: str = doc("The server, or `probe` for what the in-process probe found apart from any server.")
    code: str = doc("Stable name: refcount-contention, locks, gc, allocator, contending, serialised, "
                    "single-thread-cost, probe-unmeasured, no-profile, gil-reenabled, gil-latent, event-loop, "
                    "loop-ceiling, already-parallel, per-core-cost, under-loaded, waiting, load-generator, scales, "
                    "python-gil-0, no-3.14t, no-limit (docs/diagnosis.md).")
    title: str = doc("The finding in a few words.")
    detail: str = doc("What was measured, with the figures.")
    change: str = doc("What the team can change.")
    evidence: Mapping[str, EvidenceValue] = doc(
        "The figures the finding rests on, e.g. `profile_share` (a fraction of 3.14t's CPU in the profile window), "
        "`cpu_ms_per_request`, `probe_cpu_growth` and `probe_efficiency`, `endpoint`, `global` (a module global "
        "the layer found not immortal). Keys depend on the finding; every value is a number, a string, a boolean "
        "or null.")


@dataclass(frozen=True)
class ProbeSummary(Record):
    """One row of the per-endpoint probe's table: an endpoint on one interpreter at one thread count."""

    scenario: str = doc("The scenario whose load reaches the endpoint.")
    endpoint: str = doc("`METHOD /route`.")
    interpreter: str = doc("3.14 or 3.14t.")
    threads: int = doc("Threads calling it at once, each with its own event loop.")
    cpu_per_call: float = doc("CPU seconds per call (the process's CPU ÷ calls), mean of the repeats.")
    cpu_per_call_low: float | None = doc("Lower end of its 95% interval.")
    cpu_per_call_high: float | None = doc("Upper end.")
    calls_per_s: float = doc("Calls per second of wall time.")
    busy_cores: float = doc("CPU ÷ wall time: how many threads really ran at once.")
    cpu_growth: float | None = doc("CPU per call ÷ at 1 thread (paired by repeat); null at 1 thread.")
    cpu_growth_low: float | None = doc("Lower end of its 95% interval.")
    cpu_growth_high: float | None = doc("Upper end.")
    efficiency: float | None = doc("(calls/s ÷ calls/s at 1 thread) ÷ min(threads, usable cores); null at 1 thread.")
    efficiency_low: float | None = doc("Lower end of its 95% interval.")
    efficiency_high: float | None = doc("Upper end.")
    verdict: str = doc("The endpoint's verdict from 3.14t at the most threads: contending, scales, serialised, "
                       "partial, unmeasured or failed.")


@dataclass(frozen=True)
class ProfileCauseSummary(Record):
    """A cause's share of one headline server's CPU in its profile window."""

    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    interpreter: str = doc("3.14 or 3.14t.")
    cause: str = doc("refcount-shared, refcount, locks, gc, allocator, eval, interpreter, extension:<package>, "
                     "kernel, libc or unknown.")
    share: float = doc("Fraction of the window's samples.")
    cpu_ms_per_request: float | None = doc("CPU milliseconds per request in it.")


@dataclass(frozen=True)
class SummaryRecord(Record):
    """``summary.json``: the verdict of a run, for CI and dashboards (written beside run.json)."""

    schema_version: int = doc(f"The contract's version ({SCHEMA_VERSION}), shared with run.json.")
    run_id: str = doc("The run.")
    preset: str = doc("Its preset.")
    created_at: str = doc("When the run started.")
    usable_cores: int = doc("Cores the run measured on: no speedup can exceed this.")
    comparisons: tuple[ComparisonSummary, ...] = doc("Every comparison of the run.")
    capacity: tuple[CapacitySummary, ...] = doc("Capacity at the SLO per configuration (gil-lab capacity).",
                                                default=())
    tuned: tuple[TunedSummary, ...] = doc("Per side, the best of the settings a capacity run tried, with 3.14t "
                                          "against it at equal settings and best against best (empty when every "
                                          "side ran at one setting).", default=())
    safety: SafetySummary | None = doc("Races by endpoint and by test, crashes, hangs and memory growth "
                                       "(docs/safety.md); null when the run checked no safety and no server crashed "
                                       "or hung.", default=None)
    diagnosis: tuple[FindingSummary, ...] = doc("Every finding of the diagnosis, each with its evidence.",
                                                default=())
    probe: tuple[ProbeSummary, ...] = doc("The per-endpoint probe's table (empty when the run did not probe).",
                                          default=())
    profile_causes: tuple[ProfileCauseSummary, ...] = doc("CPU by cause in each headline server's profile "
                                                          "window (empty without profiles).", default=())
    capacity_ratios: tuple[CapacityRatio, ...] = doc("Ratios of capacities with their 95% intervals: 3.14t against "
                                                     "3.14, against 3.14 × N processes, and PYTHON_GIL=1 against "
                                                     "3.14t, per scenario and server (and per phase of a tuning "
                                                     "run).", default=())
