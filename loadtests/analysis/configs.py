"""Cells grouped into configurations, and the comparisons between configurations.

Every figure of a run (report, claims, capacity, history, diff) starts here so that
they all apply the same rules (docs/run-json.md):

- an invalid cell is never averaged with valid ones; it is kept with its reason;
- a configuration's figure is the mean of its valid repeats with a 95% t interval;
- a speedup compares two configurations that differ only in interpreter (or in
  ``parallelism``) for the same scenario, server and users.

The records these functions return are in :mod:`loadtests.analysis.figures.configs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from loadtests.analysis.figures.configs import (
    FT_INTERPRETER,
    GIL_INTERPRETER,
    KIND_GIL_TOGGLE,
    KIND_INTERPRETER,
    KIND_PROCESSES,
    SWEEP_AXES,
    Comparison,
    ConfigSummary,
    Sweep,
)
from loadtests.analysis.figures.stats import InsufficientData, MeanCI, PairedRatio, Speedup
from loadtests.analysis.paired import coefficient_of_variation, paired_ratio
from loadtests.analysis.stats import mean_ci, speedup
from loadtests.results.records import Cell, RunRecord

# --- configurations -------------------------------------------------------------------


def _mean_or_none(values: Sequence[float | None], what: str) -> MeanCI | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return mean_ci(vals, what=what, floor=0.0) if vals else None


def is_counted(cell: Cell) -> bool:
    """A cell whose throughput enters a configuration's figures: valid, with a measured rps, and not a noisy
    window that was measured again (``superseded``: kept for the record only)."""
    return cell.valid and cell.rps is not None and not cell.superseded


def is_invalid(cell: Cell) -> bool:
    """A cell that should have counted and does not (a superseded noisy window is neither)."""
    return not is_counted(cell) and not cell.superseded


def summarize_configs(run: RunRecord) -> list[ConfigSummary]:
    """Group closed-loop cells by ``config_id`` (first-seen order) and summarise valid repeats only.

    Open-loop windows (capacity searches) answer another question: ``run.capacities`` holds them.
    """
    groups: dict[str, list[Cell]] = {}
    for cell in run.cells:
        if cell.config.load_model == "closed":
            groups.setdefault(cell.config_id, []).append(cell)
    out = []
    for cid, cells in groups.items():
        first = cells[0]
        valid = [c for c in cells if is_counted(c)]
        invalid = tuple((c.id, c.invalid_reason or "marked invalid without a reason") for c in cells if is_invalid(c))
        lat = [c.latency_ms for c in valid if c.latency_ms is not None]
        by = tuple(dict.fromkeys(m for c in cells for m in c.gil_enabled_by))
        out.append(
            ConfigSummary(
                config_id=cid,
                scenario=first.config.scenario,
                server=first.config.server,
                interpreter=first.config.interpreter,
                free_threaded=first.free_threaded,
                python_gil_env=first.config.python_gil,
                parallelism=first.config.parallelism,
                workers=first.config.workers,
                threads=first.config.threads,
                users=first.config.users,
                cpus=first.config.cpus,
                n_valid=len(valid),
                rps_values=tuple(c.rps for c in valid if c.rps is not None),
                rps=_mean_or_none([c.rps for c in valid], f"{cid} rps"),
                p50=_mean_or_none([d.p50 for d in lat], f"{cid} p50"),
                p95=_mean_or_none([d.p95 for d in lat], f"{cid} p95"),
                p99=_mean_or_none([d.p99 for d in lat], f"{cid} p99"),
                rss_mb=_mean_or_none([c.server_rss_mb_peak for c in valid], f"{cid} rss"),
                server_cpu_cores=_mean_or_none([c.server_cpu_cores for c in valid], f"{cid} cpu"),
                client_cpu_cores=_mean_or_none([c.client_cpu_cores for c in valid], f"{cid} client cpu"),
                gil_enabled=any(bool(c.gil_enabled) for c in cells),
                gil_enabled_by=by,
                invalid=invalid,
                invalid_rps_values=tuple(c.rps for c in cells if is_invalid(c) and c.rps),
                refusals=tuple(c.invalid_reason or "" for c in cells if c.outcome == "refused"),
                pss_mb=_mean_or_none([c.server_pss_mb_peak for c in valid], f"{cid} pss"),
                uss_mb=_mean_or_none([c.server_uss_mb_peak for c in valid], f"{cid} uss"),
                cv=coefficient_of_variation([c.rps for c in valid if c.rps is not None]),
                server_settings=(first.config.http, first.config.loop, first.config.routes_dirs),
            )
        )
    return out


def invalid_cells(run: RunRecord) -> list[tuple[str, str]]:
    """Every invalid cell as (cell id, reason), in execution order."""
    return [(c.id, c.invalid_reason or "marked invalid without a reason") for c in run.cells if not c.valid]


# --- sweeps ------------------------------------------------------------------------------


def _sweep_key(c: ConfigSummary, axis: str) -> tuple[Any, ...]:
    dims = {"users": c.users, "threads": c.threads, "cpus": c.cpus}
    return (c.scenario, c.server, c.interpreter, c.python_gil_env, c.parallelism, c.workers,
            *(v for k, v in dims.items() if k != axis))


def _sweep_label(c: ConfigSummary, axis: str) -> str:
    interp = c.interpreter + (f"+PYTHON_GIL={c.python_gil_env}" if c.python_gil_env is not None else "")
    parts = [interp, c.server, f"×{c.workers} proc" if c.parallelism == "processes" else f"w{c.workers}"]
    if axis != "threads":
        parts.append(f"t{c.threads}")
    if axis != "users":
        parts.append(f"u{c.users}")
    if axis != "cpus" and c.cpus:
        parts.append(f"cpus{len(c.cpus)}")  # a sweep label names the count; the config id names the CPUs
    return " ".join(parts)


def sweeps(configs: Iterable[ConfigSummary], usable_cores: int) -> list[Sweep]:
    """Every set of 2+ valid configurations that differ only along one axis.

    A CPU-count sweep uses pinned configurations only: an unpinned one is not a
    measurement at a known core count.
    """
    cfgs = [c for c in configs if c.rps is not None]
    out = []
    for axis in SWEEP_AXES:
        groups: dict[tuple[Any, ...], list[ConfigSummary]] = {}
        for c in cfgs:
            if axis == "cpus" and not c.cpus:
                continue
            groups.setdefault(_sweep_key(c, axis), []).append(c)
        for members in groups.values():
            values = [c.along(axis) for c in members]
            if len(set(values)) >= 2:
                members = [c for _, c in sorted(zip(values, members, strict=True), key=lambda vc: vc[0])]
                first = members[0]
                out.append(Sweep(axis, first.scenario, _sweep_label(first, axis), tuple(members), usable_cores))
    return out


# --- comparisons ----------------------------------------------------------------------


def block_metric(cells: Iterable[Cell], config_id: str, comparison_id: str,
                 value: Callable[[Cell], float | None]) -> dict[int, float]:
    """Block -> mean ``value`` of one arm's windows in that block, for blocks where all its windows are valid
    and have the value."""
    windows: dict[int, list[Cell]] = {}
    for c in cells:
        if c.config_id == config_id and c.comparison_id == comparison_id and c.block is not None and not c.superseded:
            windows.setdefault(c.block, []).append(c)
    out = {}
    for block, ws in windows.items():
        values = [value(c) for c in ws]
        if all(is_counted(c) for c in ws) and all(v is not None for v in values):
            out[block] = math.fsum(v for v in values if v is not None) / len(values)
    return out


def block_throughput(cells: Iterable[Cell], config_id: str, comparison_id: str) -> dict[int, float]:
    """Block -> mean rps of one arm's windows in that block, for blocks where all its windows are valid."""
    return block_metric(cells, config_id, comparison_id, lambda c: c.rps)


def instance_groups(cells: Iterable[Cell], config_id: str) -> list[list[float]]:
    """The counted closed-loop windows' rps of one configuration, grouped by (comparison, server instance)."""
    groups: dict[tuple[str | None, int], list[float]] = {}
    for c in cells:
        if c.config_id == config_id and c.config.load_model == "closed" and is_counted(c) and c.rps and c.rps > 0:
            groups.setdefault((c.comparison_id, c.instance), []).append(c.rps)
    return list(groups.values())


def block_instances(cells: Iterable[Cell], comparison_id: str) -> dict[int, int]:
    """Block -> the server instance its windows ran on."""
    return {c.block: c.instance for c in cells if c.comparison_id == comparison_id and c.block is not None}


def paired_blocks(cells: Sequence[Cell], candidate_id: str, baseline_id: str, comparison_id: str) -> PairedRatio:
    """The paired ratio of two arms of one comparison, over the blocks where both are valid, by instance."""
    a = block_throughput(cells, candidate_id, comparison_id)
    b = block_throughput(cells, baseline_id, comparison_id)
    blocks = sorted(set(a) & set(b))
    instance = block_instances(cells, comparison_id)
    return paired_ratio([a[k] for k in blocks], [b[k] for k in blocks], instances=[instance[k] for k in blocks])


def _ratio(run: RunRecord, cand: ConfigSummary, base: ConfigSummary) -> tuple[Speedup | PairedRatio, str | None]:
    """Paired when both sides alternated in one comparison; else a ratio of means (runs before pairing)."""
    for comparison_id in dict.fromkeys(c.comparison_id for c in run.cells if c.config_id == cand.config_id):
        if comparison_id is None:
            continue
        if any(c.comparison_id == comparison_id for c in run.cells if c.config_id == base.config_id):
            return paired_blocks(run.cells, cand.config_id, base.config_id, comparison_id), comparison_id
    return speedup(cand.rps_values, base.rps_values), None


def compare_configs(run: RunRecord, kind: str, cand: ConfigSummary, base: ConfigSummary) -> Comparison | None:
    """``cand`` against ``base``: paired where they alternated, else a ratio of means; None without valid windows."""
    return _compare(run, kind, cand, base)


def _compare(run: RunRecord, kind: str, cand: ConfigSummary, base: ConfigSummary) -> Comparison | None:
    if not cand.rps_values or not base.rps_values:
        return None
    try:
        s, comparison_id = _ratio(run, cand, base)
    except InsufficientData:
        return None
    # The cores the candidate could use (min(usable cores or its CPU set, users, the server model's
    # width)) over the cores the baseline kept busy. Only an interpreter comparison has it as its
    # ideal: against N processes, or PYTHON_GIL=1, the question is parity, not scaling.
    used = base.server_cpu_cores.mean if base.server_cpu_cores else None
    cores_ratio = cand.cores_in_use(run.usable_cores) / used if used and used > 0 else None
    ideal = eff = None
    if kind == KIND_INTERPRETER and cand.parallelism == "threads" and cores_ratio is not None:
        ideal = cores_ratio
        eff = s.ratio / ideal
    memory = None
    if cand.memory_mb and base.memory_mb and base.memory_mb.mean > 0 and cand.memory_measure == base.memory_measure:
        memory = cand.memory_mb.mean / base.memory_mb.mean
    return Comparison(kind, cand, base, s, ideal, eff, memory, comparison_id, cores_ratio)


def _is_default_ft(c: ConfigSummary) -> bool:
    return c.interpreter == FT_INTERPRETER and c.python_gil_env in (None, "0")


def candidate_pairs(configs: Iterable[ConfigSummary]) -> list[tuple[str, ConfigSummary, ConfigSummary]]:
    """Every (kind, candidate, baseline) pair a run can compare, valid or not, in the order of the candidates.

    - 3.14t vs 3.14 with identical server settings (``KIND_INTERPRETER``);
    - 3.14t threads vs the 3.14 N-process baseline, same scenario/server/users/threads;
    - 3.14t with PYTHON_GIL=1 vs 3.14t default, identical otherwise.
    """
    cfgs = list(configs)
    out: list[tuple[str, ConfigSummary, ConfigSummary]] = []

    def key(c: ConfigSummary) -> tuple[Any, ...]:
        return (c.scenario, c.server, c.parallelism, c.workers, c.threads, c.users, c.cpus, c.server_settings)

    gil = {key(c): c for c in cfgs if c.interpreter == GIL_INTERPRETER}
    # PYTHON_GIL unset is the default; PYTHON_GIL=0 stands in only where no unset config exists
    ft_default = {key(c): c for c in sorted((c for c in cfgs if _is_default_ft(c)),
                                            key=lambda c: c.python_gil_env is None)}
    procs = [c for c in cfgs if c.interpreter == GIL_INTERPRETER and c.parallelism == "processes"]
    for c in cfgs:
        if _is_default_ft(c):
            base = gil.get(key(c))
            if base is not None:
                out.append((KIND_INTERPRETER, c, base))
            if c.parallelism == "threads":
                same = (c.scenario, c.server, c.users, c.threads, c.cpus, c.server_settings)
                out += [(KIND_PROCESSES, c, p) for p in procs
                        if (p.scenario, p.server, p.users, p.threads, p.cpus, p.server_settings) == same]
        elif c.interpreter == FT_INTERPRETER and c.python_gil_env == "1":
            base = ft_default.get(key(c))
            if base is not None:
                out.append((KIND_GIL_TOGGLE, c, base))
    return out


def comparisons(run: RunRecord, configs: Iterable[ConfigSummary] | None = None) -> list[Comparison]:
    """The pairs of :func:`candidate_pairs` that have a ratio (both sides valid), in the same order."""
    cfgs = list(configs) if configs is not None else summarize_configs(run)
    return [cmp for kind, cand, base in candidate_pairs(cfgs) if (cmp := _compare(run, kind, cand, base))]


def headline(comps: Iterable[Comparison]) -> dict[tuple[str, str], Comparison]:
    """The 3.14t-vs-3.14 comparison per (scenario, server) at its highest users level.

    The highest concurrency is where the interpreters differ most; lower levels stay in
    the scaling section. Among several configurations at that level the headline is the
    one a user would deploy, never the fastest: PYTHON_GIL unset (a PYTHON_GIL=0 arm never
    heads), not pinned to CPUs, then the widest pool (workers × threads).
    """

    def rank(c: Comparison) -> tuple[Any, ...]:
        cand = c.candidate
        return (c.users, cand.python_gil_env is None, cand.cpus is None, cand.workers * cand.threads)

    best: dict[tuple[str, str], Comparison] = {}
    for c in comps:
        if c.kind != KIND_INTERPRETER or c.candidate.python_gil_env == "0":
            continue  # PYTHON_GIL=0 is a risk to report, never the headline
        k = (c.scenario, c.server)
        cur = best.get(k)
        if cur is None or rank(c) > rank(cur):
            best[k] = c
    return best


def scenarios(run: RunRecord) -> list[str]:
    """Scenario names in first-seen order."""
    return list(dict.fromkeys(c.config.scenario for c in run.cells))
