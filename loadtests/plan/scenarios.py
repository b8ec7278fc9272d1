"""The scenario catalogue: which scenarios exist and which Locust file drives each.

A scenario is either built in (``scenarios/<name>_load.py``) or a drop-in route module
(``app/routes/<name>.py`` or a module in a ``--routes-dir``): a drop-in is driven by the
generic ``routes`` scenario, which reads its load specs from ``GET /lab/loads`` and is
told which module to drive through ``LAB_LOAD_MODULE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from loadtests.core.errors import ConfigError
from loadtests.core.paths import LAB_ROOT

SCENARIOS_DIR = LAB_ROOT / "scenarios"
BUILTIN_ROUTES_DIR = LAB_ROOT / "app" / "routes"
# The generic scenario: it reads GET /lab/loads and drives drop-in routes by weight.
ROUTES_SCENARIO = "routes"
LOAD_MODULE_ENV = "LAB_LOAD_MODULE"


def builtin_scenarios() -> list[str]:
    return sorted(p.name[: -len("_load.py")].replace("_", "-") for p in SCENARIOS_DIR.glob("*_load.py"))


def drop_in_modules(routes_dirs: Iterable[str] = ()) -> list[str]:
    """Short names of the drop-in route modules the app will discover (app/routes + extra dirs)."""
    dirs = [BUILTIN_ROUTES_DIR, *map(Path, routes_dirs)]
    return sorted({p.stem for d in dirs for p in d.glob("*.py") if not p.name.startswith("_")})


def available_scenarios(routes_dirs: Iterable[str] = ()) -> list[str]:
    """Built-in scenarios, then one per drop-in module (a built-in name wins a clash)."""
    builtin = builtin_scenarios()
    return builtin + [m for m in drop_in_modules(routes_dirs) if m not in builtin]


def _builtin_file(name: str) -> Path:
    return SCENARIOS_DIR / f"{name.replace('-', '_')}_load.py"


def check_scenario(name: str, routes_dirs: Iterable[str] = ()) -> str:
    known = available_scenarios(routes_dirs)
    if name not in known:
        raise ConfigError(f"unknown scenario {name!r}; available: {', '.join(known)}. "
                          "A drop-in module in app/routes/ or a --routes-dir is a scenario too.")
    return name


def scenario_file(name: str, routes_dirs: Iterable[str] = ()) -> Path:
    """``json`` -> ``scenarios/json_load.py``; a drop-in module name -> the generic scenario."""
    check_scenario(name, routes_dirs)
    path = _builtin_file(name)
    return path if path.is_file() else _builtin_file(ROUTES_SCENARIO)


def scenario_env(name: str, routes_dirs: Iterable[str] = ()) -> dict[str, str]:
    """The generic scenario is told which drop-in module to drive; built-ins need nothing."""
    if _builtin_file(name).is_file():
        return {}
    return {LOAD_MODULE_ENV: name} if name in drop_in_modules(routes_dirs) else {}


def is_team_scenario(name: str, routes_dirs: Iterable[str] = ()) -> bool:
    """A drop-in module found only in a directory outside the lab: the team's route, not one of the lab's scenarios."""
    if _builtin_file(name).is_file():
        return False
    lab_dirs = [BUILTIN_ROUTES_DIR, *(Path(d) for d in routes_dirs if Path(d).resolve().is_relative_to(LAB_ROOT))]
    team_dirs = [Path(d) for d in routes_dirs if Path(d) not in lab_dirs]
    return not any((d / f"{name}.py").is_file() for d in lab_dirs) and any(
        (d / f"{name}.py").is_file() for d in team_dirs)
