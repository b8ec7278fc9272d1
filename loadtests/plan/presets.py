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
import os
import sys
from dataclasses import asdict, dataclass, field, replace

from loadtests.core.errors import ConfigError
from loadtests.core.paths import PROJECT_ROOT
from loadtests.measure.loadgen import available_scenarios
from loadtests.measure.servers import SERVERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESETS_DIR = PROJECT_ROOT / "scenarios" / "presets"
INTERPRETERS = ("3.14", "3.14t")
UNSET = "unset"  # TOML has no null: PYTHON_GIL not given to the server
# Preset `prepare = [...]` steps: module whose `prepare(interpreters) -> dict` returns extra server env.
PREPARE_STEPS = {"gil_trap": "loadtests.provision.gil_trap"}


@dataclass(frozen=True)
class CellConfig:
    """One configuration; a cell is a configuration plus a repeat number."""

    scenario: str
    server: str
    workers: int
    parallelism: str  # "threads" or "processes"
    threads: int
    users: int
    python_gil: str | None
    cpus: tuple[int, ...] | None
    interpreter: str  # last, so sorting puts 3.14 and 3.14t side by side
    routes_dirs: tuple[str, ...] = ()
    group: str = field(default="", compare=False)  # which preset group listed it; not part of identity

    @property
    def config_id(self) -> str:
        gil = f"gil-{self.python_gil}" if self.python_gil is not None else "gil-default"
        cpus = f"/cpus{len(self.cpus)}" if self.cpus else ""
        processes = "/processes" if self.parallelism == "processes" else ""
        return (f"{self.scenario}/{self.server}/{self.interpreter}/{gil}/w{self.workers}{processes}/t{self.threads}"
                f"/u{self.users}{cpus}")

    @property
    def order_key(self) -> tuple:
        """Field order, with None made comparable; the interpreter last, so A and B sit side by side."""
        return (self.scenario, self.server, self.workers, self.parallelism, self.threads, self.users,
                self.python_gil or "", self.cpus or (), self.routes_dirs, self.interpreter)

    def cell_id(self, repeat: int) -> str:
        return f"{self.config_id}/r{repeat}"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    warmup_s: float
    duration_s: float
    repeats: int
    configs: tuple[CellConfig, ...]
    microbench: dict | None = None  # settings for `gil-lab threads` ({} = its defaults); None = no microbenchmark
    prepare: tuple[str, ...] = ()  # steps run before the first cell, e.g. "gil_trap" (see runner.PREPARE_STEPS)
    audit: bool = False  # run the GIL audit's app pass on 3.14t once per run (claim C5)

    def cells(self) -> list[tuple[CellConfig, int]]:
        """All cells in execution order: repeat-major, interpreters interleaved."""
        ordered = sorted(set(self.configs), key=lambda c: c.order_key)
        return [(config, repeat) for repeat in range(self.repeats) for config in ordered]

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "warmup_s": self.warmup_s,
                "duration_s": self.duration_s, "repeats": self.repeats, "microbench": self.microbench,
                "prepare": list(self.prepare), "audit": self.audit,
                "configs": [asdict(c) for c in sorted(set(self.configs), key=lambda c: c.order_key)]}


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(usable_cores()))
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
    routes_dirs = tuple(str((PROJECT_ROOT / d).resolve()) for d in group.get("routes_dirs", []))
    known = available_scenarios(routes_dirs)
    for scenario in scenarios:
        if scenario not in known:
            raise ConfigError(f"preset group {name!r}: unknown scenario {scenario!r}; available: {', '.join(known)}")
    servers = _as_list(group.get("servers", ["uvicorn"]), "servers", name)
    for server in servers:
        if server not in SERVERS:
            raise ConfigError(f"preset group {name!r}: unknown server {server!r}; choose from {', '.join(SERVERS)}")
    interpreters = _as_list(group.get("interpreters", list(INTERPRETERS)), "interpreters", name)
    for interpreter in interpreters:
        if interpreter not in INTERPRETERS:
            raise ConfigError(f"preset group {name!r}: interpreter must be one of {INTERPRETERS}, not {interpreter!r}")
    parallelism = group.get("parallelism", "threads")
    if parallelism not in ("threads", "processes"):
        raise ConfigError(f"preset group {name!r}: parallelism must be 'threads' or 'processes'")
    python_gils = [None if g == UNSET else str(g) for g in _as_list(group.get("python_gil", [UNSET]), "python_gil", name)]
    cpu_sets = [_cpu_set(c, name) for c in _as_list(group.get("cpus", [[]]), "cpus", name)]
    configs = []
    for scenario, server, interpreter, workers, threads, users, python_gil, cpus in itertools.product(
        scenarios, servers, interpreters, _counts(group.get("workers", [1]), "workers", name),
        _counts(group.get("threads", [8]), "threads", name), _counts(group.get("users", [8]), "users", name),
        python_gils, cpu_sets,
    ):
        if python_gil is not None and interpreter != "3.14t":
            continue  # PYTHON_GIL=0 is a fatal error on a GIL build; =1 is its default anyway
        configs.append(CellConfig(scenario, server, int(workers), parallelism, int(threads), int(users), python_gil,
                                  cpus, interpreter, routes_dirs, name))
    return configs


def _microbench(data: dict) -> dict | None:
    table = data.get("microbench")
    if table is not None and not isinstance(table, dict):
        raise ConfigError("preset: [microbench] must be a table of `gil-lab threads` settings")
    return None if table is None else dict(table)


def load_preset(name: str) -> Preset:
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
    return Preset(name, str(data.get("description", "")), float(data.get("warmup_s", 2)),
                  float(data.get("duration_s", 8)), int(data.get("repeats", 3)), tuple(configs),
                  _microbench(data), tuple(data.get("prepare", [])), bool(data.get("audit", False)))


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


def apply_overrides(preset: Preset, overrides: Overrides) -> Preset:
    configs = list(preset.configs)
    if overrides.routes_dirs:
        configs = [replace(c, routes_dirs=tuple(dict.fromkeys(c.routes_dirs + overrides.routes_dirs)))
                   for c in configs]
    if overrides.scenarios:
        known = available_scenarios({d for c in configs for d in c.routes_dirs})
        for scenario in overrides.scenarios:
            if scenario not in known:
                raise ConfigError(f"unknown scenario {scenario!r}; available: {', '.join(known)}")
        present = {c.scenario for c in configs}
        base = [c for c in configs if c.scenario == sorted(present)[0]] if present else []
        # A scenario not in the preset runs with the preset's first scenario's configurations.
        configs = [c for c in configs if c.scenario in overrides.scenarios] + [
            replace(c, scenario=s) for s in overrides.scenarios if s not in present for c in base
        ]
    if overrides.servers:
        for server in overrides.servers:
            if server not in SERVERS:
                raise ConfigError(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")
        configs = [c for c in configs if c.server in overrides.servers]
    if overrides.users:
        configs = list({replace(c, users=u) for c in configs for u in overrides.users})
    if not configs:
        raise ConfigError(f"the overrides leave preset {preset.name!r} with no cells to run")
    for field_name, value in (("repeats", overrides.repeats), ("duration_s", overrides.duration_s),
                              ("warmup_s", overrides.warmup_s)):
        if value is not None and value <= 0 and field_name != "warmup_s":
            raise ConfigError(f"--{field_name.replace('_s', '')} must be positive")
    return replace(
        preset,
        configs=tuple(configs),
        repeats=overrides.repeats or preset.repeats,
        duration_s=overrides.duration_s or preset.duration_s,
        warmup_s=preset.warmup_s if overrides.warmup_s is None else overrides.warmup_s,
        microbench=None if overrides.skip_microbench else preset.microbench,
    )
