"""``gil-lab clean``: remove what set-up, tests and runs leave behind, and say what goes.

What can go, one flag each (``make clean`` takes the default two, ``make clean-all``
adds ``builds``; ``results`` goes only when asked for by name):

- ``environments``: the app environments, the environments of teams' services and the
  recorded interpreters (``.envs/``, or ``<cache>/envs/`` for an installed lab), and in a
  checkout the control plane ``.venv/``. Only what the lab made is removed from those
  directories.
- ``caches``: the tools' caches of a checkout (``.pytest_cache``, ``.mypy_cache``,
  ``.ruff_cache``, ``.hypothesis``, every ``__pycache__`` outside the environments), and
  the bytecode the lab compiled for its servers (``<cache>/bytecode``: the next run
  compiles it again, in under a minute).
- ``builds``: the lab's user cache (``LAB_CACHE_DIR``, by default
  ``~/.cache/gil-lab``): interpreter builds (about 3 minutes each to redo), source
  tarballs, the lab's own uv, the GIL-trap builds, an installed lab's environments.
- ``results``: the run directories and their history (``results/``).

Nothing is asked interactively. Standard library only: ``make clean`` runs it through
``python3 -m loadtests.cli.bootstrap clean`` before any environment exists.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.errors import ConfigError
from loadtests.core.paths import CHECKOUT, cache_dir, control_venv, envs_dir, results_dir
from loadtests.provision import bytecode
from loadtests.provision.app_envs import ENV_PREFIX
from loadtests.provision.provisioning import state_file

#: Every part, with the help text both command lines show.
PARTS = {
    "environments": "the app environments and recorded interpreters; in a checkout also .venv",
    "caches": "tool caches in a checkout (.pytest_cache, .mypy_cache, .ruff_cache, .hypothesis, __pycache__) and "
              "the bytecode compiled for the servers",
    "builds": "the lab's user cache: interpreter builds, source tarballs, the lab's uv, GIL-trap builds",
    "results": "results/: every run directory and the history (only when asked for)",
}
DEFAULT_PARTS = ("environments", "caches")
ALL_PARTS = ("environments", "caches", "builds")  # --all: everything but the results
TOOL_CACHES = (".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis")
# __pycache__ inside these belongs to an environment or to git, not to the tree's own code.
NOT_SEARCHED = {".git", ".venv", ".envs", "results"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Removal:
    """Paths of one kind to remove, and how to name them in one line."""

    what: str
    paths: tuple[Path, ...]

    def describe(self) -> str:
        if len(self.paths) == 1:
            return f"{self.paths[0]} ({self.what})"
        return f"{len(self.paths)} {self.what}"


def choose_parts(chosen: Iterable[str], everything: bool) -> tuple[str, ...]:
    """The flags given, ``--all``'s three, or the default two when none is given."""
    picked = tuple(part for part in PARTS if part in set(chosen))
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown:
        raise ConfigError(f"unknown part to clean: {', '.join(unknown)}; known: {', '.join(PARTS)}")
    if everything:
        picked = tuple(dict.fromkeys((*ALL_PARTS, *picked)))
    return picked or DEFAULT_PARTS


def _existing(*paths: Path) -> tuple[Path, ...]:
    return tuple(path for path in paths if path.exists() or path.is_symlink())


def _environments() -> Iterator[Removal]:
    envs = envs_dir()
    for path in _existing(envs / "app-gil", envs / "app-ft"):
        yield Removal("app environment", (path,))
    for path in sorted(envs.glob(f"{ENV_PREFIX}-*")) if envs.is_dir() else ():
        yield Removal("environment of a team's service", (path,))
    for path in _existing(state_file()):
        yield Removal("the interpreters set-up recorded", (path,))
    if CHECKOUT is not None:
        for path in _existing(control_venv()):
            yield Removal("the checkout's control plane", (path,))


def _pycache_dirs(root: Path) -> Iterator[Path]:
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.is_symlink() or child.name in NOT_SEARCHED:
            continue
        if child.name == "__pycache__":
            yield child
        else:
            yield from _pycache_dirs(child)


def _caches() -> Iterator[Removal]:
    yield from (Removal("the bytecode compiled for the servers", (path,)) for path in _existing(bytecode.cache_root()))
    if CHECKOUT is None:
        return
    yield from (Removal("tool cache", (path,)) for path in _existing(*(CHECKOUT / name for name in TOOL_CACHES)))
    found = tuple(_pycache_dirs(CHECKOUT))
    if found:
        yield Removal(f"__pycache__ directories under {CHECKOUT}", found)


def removals(parts: Iterable[str]) -> list[Removal]:
    """What the chosen parts would remove right now (only paths that exist)."""
    found: list[Removal] = []
    for part in parts:
        if part == "environments":
            found += _environments()
        elif part == "caches":
            found += _caches()
        elif part == "builds":
            found += [Removal("the lab's user cache", (path,)) for path in _existing(cache_dir())]
        elif part == "results":
            found += [Removal("run directories and history", (path,)) for path in _existing(results_dir())]
    return found


def refuse_unsafe(path: Path) -> None:
    """Never remove a directory that holds the home directory, the checkout or the working directory.

    Each location can be moved by a variable (LAB_CACHE_DIR, LAB_ENVS_DIR, LAB_RESULTS_DIR,
    LAB_CONTROL_VENV); one set to ``~`` or ``.`` by mistake must not take the rest with it.
    """
    target = path.resolve()
    for precious in (Path.home(), Path.cwd(), *([CHECKOUT] if CHECKOUT else [])):
        if precious.resolve().is_relative_to(target):
            raise ConfigError(f"refusing to remove {path}: it holds {precious}. Check LAB_CACHE_DIR, LAB_ENVS_DIR, "
                              "LAB_RESULTS_DIR and LAB_CONTROL_VENV.")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def clean(parts: tuple[str, ...], say: Say, dry_run: bool = False) -> list[Removal]:
    """Remove what ``parts`` name, one line per kind of thing; ``dry_run`` only says it."""
    found = removals(parts)
    for removal in found:
        for path in removal.paths:
            refuse_unsafe(path)
    for removal in found:
        say(f"{'would remove' if dry_run else 'removing'} {removal.describe()}")
        if not dry_run:
            for path in removal.paths:
                if path.exists() or path.is_symlink():  # an earlier part may have taken it already
                    _remove(path)
    envs = envs_dir()
    if not dry_run and "environments" in parts and envs.is_dir() and not any(envs.iterdir()):
        envs.rmdir()  # nothing of anyone's is left in it
    if not found:
        say(f"nothing to remove ({', '.join(parts)})")
    return found
