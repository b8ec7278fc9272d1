"""The probe's table: per endpoint, single-thread cost 3.14t vs 3.14, parallel efficiency, and who contends.

From the raw steps of ``run.probes`` (``measure/endpoint_probe.py``), per endpoint and
interpreter and thread count:

- **CPU per call**: the probe process's CPU time over a step ÷ its calls, mean over the
  repeats with a t interval;
- **throughput**: calls ÷ wall time, likewise;
- **busy cores**: CPU ÷ wall: how many threads really ran at once;
- **CPU growth**: CPU per call at N threads ÷ at 1 thread, paired by repeat (the counts
  alternate inside each repeat), a geometric mean with its interval;
- **efficiency**: the throughput ratio N threads ÷ 1 thread, paired the same way, ÷
  min(N, usable cores).

Each endpoint gets a verdict on 3.14t, from the most threads measured:

- ``contending``: CPU per call grew by at least :data:`CONTENTION_GROWTH` and the
  interval excludes 1 (or, with few repeats, every repeat grew that much): threads slow
  each other down on something they share;
- ``unmeasured``: the control (plain threads on local variables, measured right after each
  repeat) did not reach :data:`PARALLEL_SHARE` of the cores: the machine did not let
  threads overlap, so contention could not show. When at least two repeats' controls
  did, the endpoint is judged on those repeats only (:func:`overlapping_repeats`);
- ``serialised``: the endpoint's threads kept fewer than :data:`SERIAL_SHARE` of the cores
  the control kept busy, with CPU per call flat: they wait for each other (a lock, a
  dict's or list's per-object lock many threads write, one event loop, the GIL turned
  back on);
- ``scales``: efficiency at least :data:`SCALES_EFFICIENCY`;
- ``partial``: anything between; ``failed``: the endpoint could not be probed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from loadtests.analysis.figures.probe import (
    CONTENTION_GROWTH,
    FT,
    GIL,
    PARALLEL_SHARE,
    SCALES_EFFICIENCY,
    SERIAL_SHARE,
    EndpointScaling,
    ProbeRow,
    Verdict,
)
from loadtests.analysis.figures.stats import InsufficientData, PairedRatio, Speedup
from loadtests.analysis.paired import paired_ratio
from loadtests.analysis.stats import mean_ci, speedup
from loadtests.results.records import ProbedEndpoint, ProbeRun, ProbeStep, RunRecord


def _by_repeat(steps: Sequence[ProbeStep], threads: int) -> list[ProbeStep]:
    return [s for s in steps if s.threads == threads]


def _scaled(ratio: PairedRatio, divisor: float) -> PairedRatio:
    return PairedRatio(ratio.ratio / divisor, None if ratio.low is None else ratio.low / divisor,
                       None if ratio.high is None else ratio.high / divisor, ratio.n_pairs, ratio.log_sd)


def overlapping_repeats(endpoint: ProbedEndpoint, usable_cores: int) -> list[int] | None:
    """The repeats whose control kept :data:`PARALLEL_SHARE` of the cores busy, when at least two did.

    On a busy machine some repeats run while other processes hold the cores; judged on the
    repeats where plain threads did overlap, an endpoint shows what its own threads do.
    None: fewer than two such repeats, so every repeat counts (and the verdict says so).
    """
    top = max((s.threads for s in endpoint.steps), default=1)
    ideal = min(top, usable_cores)
    kept = [i for i, c in enumerate(s for s in endpoint.control if s.threads == top)
            if c.cpu_s / c.wall_s >= PARALLEL_SHARE * ideal]
    return kept if len(kept) >= 2 else None


def rows_of(run: ProbeRun, endpoint: ProbedEndpoint, usable_cores: int) -> list[ProbeRow]:
    """The endpoint's rows on one interpreter (from its overlapping repeats when it has them); none when it has no
    step at 1 thread."""
    kept = overlapping_repeats(endpoint, usable_cores)

    def steps(threads: int) -> list[ProbeStep]:
        found = _by_repeat(endpoint.steps, threads)
        return found if kept is None else [found[i] for i in kept if i < len(found)]

    base = steps(1)
    if not base:
        return []
    out = []
    for threads in sorted({s.threads for s in endpoint.steps}):
        mine = steps(threads)
        pairs = min(len(mine), len(base))
        growth = efficiency = lowest = None
        if threads > 1 and pairs:
            per_call = [s.cpu_s / s.calls for s in mine[:pairs]], [s.cpu_s / s.calls for s in base[:pairs]]
            growth = paired_ratio(*per_call)
            lowest = min(n / one for n, one in zip(*per_call, strict=True))
            rate = paired_ratio([s.calls / s.wall_s for s in mine[:pairs]], [s.calls / s.wall_s for s in base[:pairs]])
            efficiency = _scaled(rate, min(threads, usable_cores))
        out.append(ProbeRow(
            scenario=run.scenario, endpoint=endpoint.key, interpreter=run.interpreter, threads=threads,
            cpu_per_call=mean_ci([s.cpu_s / s.calls for s in mine], what="CPU per call", floor=0.0),
            throughput=mean_ci([s.calls / s.wall_s for s in mine], what="calls per second", floor=0.0),
            busy_cores=statistics.fmean(s.cpu_s / s.wall_s for s in mine), efficiency=efficiency, cpu_growth=growth,
            cpu_growth_min=lowest))
    return out


def control_cores(run: ProbeRun | None, endpoint: ProbedEndpoint | None, threads: int,
                  usable_cores: int = 1) -> float | None:
    """The busy cores plain threads reached at ``threads``: beside the endpoint's steps (the mean over its
    overlapping repeats, else over all), else the better of the probe's own before and after."""
    beside = [s.cpu_s / s.wall_s for s in (endpoint.control if endpoint else ()) if s.threads == threads]
    kept = overlapping_repeats(endpoint, usable_cores) if endpoint is not None else None
    if kept is not None:
        beside = [beside[i] for i in kept if i < len(beside)]
    if beside:
        return statistics.fmean(beside)
    found = [s.cpu_s / s.wall_s for s in (run.control if run else ()) if s.threads == threads]
    return max(found) if found else None


def _verdict(rows: Sequence[ProbeRow], control: float | None, usable_cores: int) -> tuple[Verdict, str]:
    top = max(rows, key=lambda r: r.threads)
    ideal = min(top.threads, usable_cores)
    growth, efficiency = top.cpu_growth, top.efficiency
    # with a few repeats, every one of them growing counts, if the endpoint's own threads did run at once
    every = (top.cpu_growth_min is not None and top.cpu_growth_min >= CONTENTION_GROWTH
             and top.busy_cores >= PARALLEL_SHARE * ideal)
    if growth is not None and growth.ratio >= CONTENTION_GROWTH and (
            (growth.low is not None and growth.low > 1.0) or every):
        spread = (f"({growth.low:.2f}–{growth.high:.2f})" if growth.low is not None and growth.low > 1.0 else
                  f"(every repeat at least {top.cpu_growth_min:.2f}×)")
        return "contending", f"CPU per call grew {growth.ratio:.2f}× from 1 to {top.threads} threads {spread}"
    if control is not None and control < PARALLEL_SHARE * ideal:
        return "unmeasured", (f"plain threads on local variables kept only {control:.2f} of {ideal} cores busy: the "
                              "machine did not let threads run at once, so contention could not show")
    if control is not None and top.busy_cores < SERIAL_SHARE * control:
        return "serialised", (f"its {top.threads} threads kept {top.busy_cores:.2f} cores busy where plain threads "
                              f"kept {control:.2f}, with CPU per call flat: they wait for each other")
    if efficiency is not None and efficiency.ratio >= SCALES_EFFICIENCY:
        return "scales", f"efficiency {efficiency.ratio:.2f} at {top.threads} threads"
    eff = "—" if efficiency is None else f"{efficiency.ratio:.2f}"
    return "partial", f"efficiency {eff} at {top.threads} threads"


def _single_thread_cost(ft: ProbedEndpoint | None, gil: ProbedEndpoint | None) -> Speedup | None:
    """3.14t's CPU per call at 1 thread ÷ 3.14's (two processes: a ratio of means, Fieller interval)."""
    if ft is None or gil is None:
        return None
    try:
        return speedup([s.cpu_s / s.calls for s in _by_repeat(ft.steps, 1)],
                       [s.cpu_s / s.calls for s in _by_repeat(gil.steps, 1)], what="CPU per call")
    except InsufficientData:
        return None


def endpoint_table(run: RunRecord) -> list[EndpointScaling]:
    """Every probed endpoint, per scenario, in the order the load reached them."""
    usable = run.usable_cores
    out = []
    for scenario in dict.fromkeys(p.scenario for p in run.probes):
        runs = {p.interpreter: p for p in run.probes if p.scenario == scenario}
        ft_run = runs.get(FT)
        keys = list(dict.fromkeys(e.key for p in runs.values() for e in p.endpoints))
        for key in keys:
            found = {label: next((e for e in p.endpoints if e.key == key), None) for label, p in runs.items()}
            rows = [r for label, e in found.items() if e is not None for r in rows_of(runs[label], e, usable)]
            errors = [f"{label}: {e.error}" for label, e in found.items() if e is not None and e.error]
            ft_rows = [r for r in rows if r.interpreter == FT]
            ft_end, gil_end = found.get(FT), found.get(GIL)
            non_immortal = tuple(g for g in (ft_end.globals if ft_end else ()) if g.immortal is False)
            top = max((r.threads for r in rows), default=1)
            if ft_run is not None and ft_run.gil_enabled:
                verdict: Verdict = "failed"
                why = f"the GIL was on in the 3.14t probe ({', '.join(ft_run.gil_enabled_by) or 'unnamed'})"
            elif not ft_rows:
                verdict, why = "failed", "; ".join(errors) or "no 3.14t measurement"
            else:
                verdict, why = _verdict(ft_rows, control_cores(ft_run, ft_end, top, usable), usable)
                kept = overlapping_repeats(ft_end, usable) if ft_end is not None else None
                if kept is not None and ft_end is not None and len(kept) < len(ft_end.control):
                    why += f" (judged on the {len(kept)} of {len(ft_end.control)} repeats where plain threads overlapped)"
            cost = _single_thread_cost(ft_end, gil_end)
            out.append(EndpointScaling(scenario, key, tuple(rows), cost, verdict, why, top,
                                       control_cores(ft_run, ft_end, top, usable), non_immortal,
                                       "; ".join(errors) or None))
    return out
