"""Matrix presets: which cells a run measures, and in what order.

A preset (``scenarios/presets/<name>.toml``) lists groups; each group is a product
of lists (scenarios × servers × interpreters × workers × threads × users ×
PYTHON_GIL settings × CPU sets). The run measures the union of the groups,
``repeats`` times, in an interleaved order: every repeat visits all configurations,
and configurations that differ only by interpreter sit next to each other (A B A B),
so slow drift of the machine does not favour one interpreter.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from loadtests.core import flavour as flavours
from loadtests.core import servers
from loadtests.core.errors import ConfigError, LabError
from loadtests.core.machine import usable_cores, usable_cpus
from loadtests.core.paths import LAB_ROOT
from loadtests.plan.scenarios import available_scenarios, check_scenario
from loadtests.results.records import CapacityPolicy, CellConfig, Plan, ServiceRef

PRESETS_DIR = LAB_ROOT / "scenarios" / "presets"
UNSET = "unset"  # TOML has no null: PYTHON_GIL not given to the server
#: Preset `prepare = [...]` steps the workflow knows how to run before the first cell.
PREPARE_STEPS = ("gil_trap",)


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def _counts(value: object, key: str, group: str) -> list[int]:
    """Integers, where the word "cores" means the usable core count of this machine."""
    out = []
    for item in _as_list(value, key, group):
        if item == "cores":
            item = usable_cores()
        if not isinstance(item, int) or isinstance(item, bool) or item < 1:
            raise ConfigError(f"preset group {group!r}: {key} takes integers >= 1 or \"cores\", not {item!r}")
        out.append(item)
    return out


def _cpu_set(value: object, group: str) -> tuple[int, ...] | None:
    """A CPU set for taskset: [] = no pinning, a list of CPU ids, or a count (the first N usable CPUs)."""
    usable = usable_cpus()
    if value in ([], None):
        return None
    if value == "cores" or (isinstance(value, int) and not isinstance(value, bool)):
        count = len(usable) if value == "cores" else int(value)  # type: ignore[arg-type]
        if not 1 <= count <= len(usable):
            raise ConfigError(f"preset group {group!r}: cpus={value!r} needs {count} CPUs; "
                              f"this machine lets the lab use {len(usable)}")
        return tuple(usable[:count])
    if isinstance(value, list) and all(isinstance(c, int) for c in value):
        missing = sorted(set(value) - set(usable))
        if missing:
            raise ConfigError(f"preset group {group!r}: CPUs {missing} are not usable here (usable: {usable})")
        return tuple(value)
    raise ConfigError(f"preset group {group!r}: cpus entries are [] , a list of CPU ids, a count or \"cores\"")


def _as_list(value: object, key: str, group: str) -> list:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"preset group {group!r}: {key} is empty")
    return items


def _expand_group(group: dict, index: int) -> list[CellConfig]:
    name = str(group.get("name", f"group{index}"))
    scenarios = _as_list(group.get("scenarios", ["json"]), "scenarios", name)
    routes_dirs = tuple(str((LAB_ROOT / d).resolve()) for d in group.get("routes_dirs", []))
    known = available_scenarios(routes_dirs)
    for scenario in scenarios:
        if scenario not in known:
            raise ConfigError(f"preset group {name!r}: unknown scenario {scenario!r}; available: {', '.join(known)}")
    names = _as_list(group.get("servers", [servers.DEFAULT_SERVER]), "servers", name)
    for server in names:
        _in_group(name, servers.check_server, server)
    interpreters = _as_list(group.get("interpreters", list(flavours.LABELS)), "interpreters", name)
    for interpreter in interpreters:
        _in_group(name, flavours.by_label, interpreter)
    parallelism = group.get("parallelism", "auto")
    if parallelism not in ("threads", "processes", "auto"):
        raise ConfigError(f"preset group {name!r}: parallelism must be 'threads', 'processes' or 'auto'")
    python_gils = [None if g == UNSET else str(g) for g in _as_list(group.get("python_gil", [UNSET]), "python_gil", name)]
    cpu_sets = [_cpu_set(c, name) for c in _as_list(group.get("cpus", [[]]), "cpus", name)]
    configs = []
    for scenario, server, interpreter, workers, threads, users, python_gil, cpus in itertools.product(
        scenarios, names, interpreters, _counts(group.get("workers", [1]), "workers", name),
        _counts(group.get("threads", [8]), "threads", name), _counts(group.get("users", [8]), "users", name),
        python_gils, cpu_sets,
    ):
        if python_gil not in flavours.by_label(interpreter).python_gil_values:
            continue  # PYTHON_GIL=0 is a fatal error on a GIL build; =1 is its default anyway
        # auto: what the server does with --workers on this interpreter (its declaration says)
        model = parallelism if parallelism != "auto" else (
            servers.server_named(server).parallelism(flavours.by_label(interpreter), int(workers)))
        configs.append(CellConfig(scenario, server, int(workers), model, int(threads), int(users),  # type: ignore[arg-type]
                                  python_gil, cpus, interpreter, routes_dirs, name))
    return configs


def _in_group(group: str, check: Callable[[str], object], value: str) -> None:
    try:
        check(value)
    except ConfigError as exc:
        raise ConfigError(f"preset group {group!r}: {exc}") from None


def _microbench(data: dict) -> dict | None:
    table = data.get("microbench")
    if table is not None and not isinstance(table, dict):
        raise ConfigError("preset: [microbench] must be a table of `gil-lab threads` settings")
    return None if table is None else dict(table)


def load_preset(name: str) -> Plan:
    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; available: {', '.join(available_presets())}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"preset {path} is not valid TOML: {exc}") from exc
    groups = data.get("group", [])
    if not groups:
        raise ConfigError(f"preset {path} defines no [[group]]")
    configs = [c for i, g in enumerate(groups) for c in _expand_group(g, i)]
    for step in data.get("prepare", []):
        if step not in PREPARE_STEPS:
            raise ConfigError(f"preset {path}: unknown prepare step {step!r}; known: {', '.join(PREPARE_STEPS)}")
    configs = sorted(dict.fromkeys(configs), key=lambda c: c.order_key)
    try:
        return Plan(name, str(data.get("description", "")), float(data.get("warmup_s", 8)),
                    float(data.get("duration_s", 3)), int(data.get("repeats", 3)), tuple(configs),
                    _microbench(data), tuple(data.get("prepare", [])), bool(data.get("audit", False)),
                    transition_s=float(data.get("transition_s", 1.0)), precision=_optional(data, "precision"),
                    max_time_s=_optional(data, "max_time_s"), capacity=_capacity(data, path),
                    probe=bool(data.get("probe", False)), profile=bool(data.get("profile", False)),
                    instances=int(data.get("instances", 1)))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"preset {path}: {exc}") from None


def _capacity(data: dict, path: Path) -> CapacityPolicy | None:
    """A preset's ``[capacity]`` table: it makes the preset a capacity search."""
    table = data.get("capacity")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"preset {path}: [capacity] must be a table (slo_ms, max_loss, resolution, arrivals)")
    try:
        return CapacityPolicy.from_json(table, path=f"{path.name} [capacity]")
    except LabError as exc:
        raise ConfigError(str(exc)) from None


def _optional(data: dict, key: str) -> float | None:
    value = data.get(key)
    return None if value is None else float(value)


@dataclass(frozen=True)
class Overrides:
    """CLI overrides of a preset. None means: keep the preset's value."""

    scenarios: tuple[str, ...] | None = None
    servers: tuple[str, ...] | None = None
    repeats: int | None = None
    duration_s: float | None = None
    warmup_s: float | None = None
    users: tuple[int, ...] | None = None
    routes_dirs: tuple[str, ...] = ()  # extra drop-in directories (absolute), added to every configuration
    skip_microbench: bool = False
    http: str | None = None  # --http (the parser, where a server lets you choose it) for every configuration
    loop: str | None = None  # every server's --loop for every configuration
    precision: float | None = None  # target relative CI half-width: adaptive alternation
    max_time_s: float | None = None  # time budget per comparison
    slo_ms: float | None = None  # capacity runs: the p95 objective
    cpus: tuple[int, ...] | None = None  # a CPU-set sweep: every configuration pinned to the first N usable CPUs
    locustfile_scenario: str | None = None  # a team's Locust file (its stem): replaces the preset's scenarios
    python_gil_0: bool = False  # add a PYTHON_GIL=0 arm beside every 3.14t arm
    threads: tuple[int, ...] | None = None  # anyio thread limits: every configuration at each of them
    probe: bool | None = None  # the per-endpoint scaling probe before the first window
    profile: bool | None = None  # profile windows on the headline servers
    instances: int | None = None  # server instances per arm of each comparison


def first_scenario_configs(configs: list[CellConfig], scenario: str) -> list[CellConfig]:
    """The configurations of the preset's first scenario (by name), renamed: how an unknown scenario is run."""
    present = sorted({c.scenario for c in configs})
    return [replace(c, scenario=scenario) for c in configs if present and c.scenario == present[0]]


def first_server_configs(configs: list[CellConfig], server: str) -> list[CellConfig]:
    """The configurations of the preset's first server, moved to ``server``: how an unlisted server is run.

    The first server is the first of the preset's servers in the registry's order (the
    default server when the preset has it). Several workers mean what they mean to the
    new server: processes, or threads with an event loop each.
    """
    order = [s for s in servers.names() if any(c.server == s for c in configs)]
    spec = servers.server_named(server)
    return [replace(c, server=server, parallelism=c.parallelism if c.workers == 1 else spec.worker_model(c.flavour))
            for c in configs if order and c.server == order[0]]


#: A tighter --precision than the preset's scales its time budget by (preset ÷ asked)², the pairs
#: an interval needs to shrink that much, but by at most this factor.
MAX_BUDGET_SCALE = 4.0


def time_budget(preset: Plan, precision: float | None, max_time_s: float | None) -> float | None:
    """Each comparison's time budget: ``--max-time``, else the preset's, grown for a tighter ``--precision``.

    Halving an interval's width takes about four times the pairs, so ``--precision 0.05`` on a
    preset tuned for 0.10 gets up to four times its budget; an adaptive comparison still
    stops as soon as it is precise enough.
    """
    if max_time_s is not None or preset.max_time_s is None:
        return max_time_s if max_time_s is not None else preset.max_time_s
    if precision is None or preset.precision is None or precision >= preset.precision:
        return preset.max_time_s
    return round(preset.max_time_s * min(MAX_BUDGET_SCALE, (preset.precision / precision) ** 2), 1)


def apply_overrides(preset: Plan, overrides: Overrides) -> Plan:
    configs = list(preset.configs)
    if overrides.routes_dirs:
        configs = [replace(c, routes_dirs=tuple(dict.fromkeys(c.routes_dirs + overrides.routes_dirs)))
                   for c in configs]
    if overrides.locustfile_scenario:
        if overrides.scenarios:
            raise ConfigError("--locustfile replaces the preset's scenarios with your Locust file, so --scenario "
                              "has nothing to choose from: give one of the two")
        configs = first_scenario_configs(configs, overrides.locustfile_scenario)
    elif overrides.scenarios:
        for scenario in overrides.scenarios:
            check_scenario(scenario, {d for c in configs for d in c.routes_dirs})
        present = {c.scenario for c in configs}
        # A scenario not in the preset runs with the preset's first scenario's configurations.
        configs = [c for c in configs if c.scenario in overrides.scenarios] + [
            c for s in overrides.scenarios if s not in present for c in first_scenario_configs(configs, s)
        ]
    if overrides.servers:
        for server in overrides.servers:
            servers.check_server(server)
        present = {c.server for c in configs}
        # A server not in the preset runs with the preset's first server's configurations.
        configs = [c for c in configs if c.server in overrides.servers] + [
            c for s in overrides.servers if s not in present for c in first_server_configs(configs, s)
        ]
    if overrides.users:
        configs = list({replace(c, users=u) for c in configs for u in overrides.users})
    if overrides.threads:
        configs = list({replace(c, threads=t) for c in configs for t in overrides.threads})
    if overrides.cpus:
        usable = len(usable_cpus())
        too_many = [n for n in overrides.cpus if not 1 <= n <= usable]
        if too_many:
            raise ConfigError(f"--cpus {','.join(map(str, overrides.cpus))}: this machine lets the lab use {usable} "
                              f"CPUs, so {', '.join(map(str, too_many))} cannot be measured here")
        sets = [_cpu_set(n, "--cpus") for n in overrides.cpus]
        configs = list({replace(c, cpus=s) for c in configs for s in sets})
    try:
        if overrides.http:
            configs = [replace(c, http=overrides.http) for c in configs]  # type: ignore[arg-type]
        if overrides.loop:
            configs = [replace(c, loop=overrides.loop) for c in configs]  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if overrides.python_gil_0:
        # What forcing the GIL off would give: an extra arm on the 3.14t side, reported as a risk.
        configs += [replace(c, python_gil="0") for c in configs if c.flavour.free_threaded and c.python_gil is None]
    if not configs:
        raise ConfigError(f"the overrides leave preset {preset.name!r} with no cells to run")
    for field_name, value in (("repeats", overrides.repeats), ("duration_s", overrides.duration_s),
                              ("warmup_s", overrides.warmup_s)):
        if value is not None and value <= 0 and field_name != "warmup_s":
            raise ConfigError(f"--{field_name.replace('_s', '')} must be positive")
    # --repeats alone asks for that many pairs exactly; with --precision it is the minimum
    precision = overrides.precision if overrides.precision is not None else (
        None if overrides.repeats is not None else preset.precision)
    try:
        return replace(
            preset,
            configs=tuple(sorted(dict.fromkeys(configs), key=lambda c: c.order_key)),
            repeats=overrides.repeats or preset.repeats,
            duration_s=overrides.duration_s or preset.duration_s,
            warmup_s=preset.warmup_s if overrides.warmup_s is None else overrides.warmup_s,
            microbench=None if overrides.skip_microbench else preset.microbench,
            precision=precision,
            max_time_s=time_budget(preset, overrides.precision, overrides.max_time_s),
            capacity=(replace(preset.capacity, slo_ms=overrides.slo_ms)
                      if preset.capacity is not None and overrides.slo_ms is not None else preset.capacity),
            probe=preset.probe if overrides.probe is None else overrides.probe,
            profile=preset.profile if overrides.profile is None else overrides.profile,
            instances=overrides.instances or preset.instances,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def attach_service(plan: Plan, refs: Mapping[str, ServiceRef]) -> Plan:
    """Every configuration tagged with its interpreter's service identity (the app, its lock, the Locust file)."""
    return replace(plan, configs=tuple(replace(c, service=refs.get(c.interpreter)) for c in plan.configs))
