"""The bytecode state of the servers, made the same for every server before anything is measured.

On 3.14t a module constant is immortal only when its module was loaded from a ``.pyc``,
so whether the app and its libraries were compiled first changes 3.14t's figures. uv
does not compile when it installs, a read-only tree cannot be compiled in place, and a
``PYTHONDONTWRITEBYTECODE=1`` in the user's shell would keep a server from caching what
it compiled. So the lab does not rely on any of that: it compiles into a cache prefix of
its own, per interpreter (``<cache>/bytecode/<interpreter>/<mode>``), and starts every
server with ``PYTHONPYCACHEPREFIX`` at that prefix and ``PYTHONDONTWRITEBYTECODE=1``.

A prefix moves every cache, the standard library's included (an import then looks for a
``.pyc`` under the prefix only), so the standard library is compiled into it too. In
``compiled`` mode the app environment's site-packages and the app's modules (the lab's
app, drop-in route directories, a team's app directory and environment) go in as well;
in ``source`` mode only the standard library does, which is what a deployment with
``PYTHONDONTWRITEBYTECODE=1`` or a read-only tree gets. No tree of the app or its
environments is written to in either mode; docs/methodology.md says what each costs at
start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loadtests.core.errors import EnvironmentSetupError
from loadtests.core.paths import LAB_ROOT, cache_dir
from loadtests.provision.json_worker import run_json_worker

WORKER = Path(__file__).with_name("bytecode_worker.py")
#: How a server tells whether a module has valid bytecode; the worker judges what to compile the same way.
PYC_CHECK = LAB_ROOT / "app" / "layer" / "bytecode.py"
#: What the lab's environment may hold that would change how a server loads its modules.
SHELL_VARIABLES = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
COMPILE_TIMEOUT_S = 900.0


Mode = Literal["compiled", "source"]


@dataclass(frozen=True)
class Tree:
    """A directory to compile, and what it is (the record names it so)."""

    kind: str  # stdlib, site-packages, app, routes, team app
    path: Path


@dataclass(frozen=True)
class TreeResult:
    """What compiling one tree did (run.json's ``CompiledTree``)."""

    kind: str
    path: str
    files: int  # .py files found
    compiled: int  # missing or stale before, compiled now
    failed: int  # could not be compiled
    seconds: float


@dataclass(frozen=True)
class Prepared:
    """One interpreter's servers' bytecode, made so: where it is, what went in, what it took."""

    mode: Mode
    prefix: Path
    trees: tuple[TreeResult, ...]
    seconds: float
    shell: Mapping[str, str]  # the lab's own bytecode variables, which no server gets


def cache_root() -> Path:
    """Where the lab keeps the bytecode it compiles (``gil-lab clean`` removes it with the other caches)."""
    return cache_dir() / "bytecode"


def prefix_for(python: Path, mode: Mode, root: Path | None = None) -> Path:
    """The cache prefix of one base interpreter in one mode (a venv's python maps to its base interpreter)."""
    base = Path(os.path.realpath(python))
    key = hashlib.sha256(str(base).encode()).hexdigest()[:12]
    return (root or cache_root()) / f"{base.name}-{key}" / mode


def server_environment(prefix: str | None) -> dict[str, str]:
    """What a server runs with: the prepared prefix and no writing; without one, neither of the shell's values
    (an empty value is as good as unset to the interpreter)."""
    if prefix is None:
        return {"PYTHONPYCACHEPREFIX": "", "PYTHONDONTWRITEBYTECODE": ""}
    return {"PYTHONPYCACHEPREFIX": prefix, "PYTHONDONTWRITEBYTECODE": "1"}


def shell_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The bytecode variables the lab's own environment holds (recorded; never passed on)."""
    env = os.environ if environ is None else environ
    return {name: env[name] for name in SHELL_VARIABLES if name in env}


def stdlib_and_site(python: Path) -> tuple[Path, Path]:
    """The standard library and the site-packages an environment's interpreter imports from."""
    code = "import json, sysconfig; print(json.dumps([sysconfig.get_path('stdlib'), sysconfig.get_path('purelib')]))"
    try:
        out = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
        stdlib, site = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise EnvironmentSetupError(f"cannot ask {python} where its libraries are: {exc}") from None
    return Path(stdlib), Path(site)


def compile_trees(python: Path, prefix: Path, trees: Sequence[Tree]) -> list[TreeResult]:
    """Compile ``trees`` with ``python`` into ``prefix``; the sources are only read."""
    prefix.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONHOME", "PYTHONPATH",
                                                            "SOURCE_DATE_EPOCH", *SHELL_VARIABLES)}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the worker's own imports leave no trace; py_compile writes anyway
    spec = json.dumps([{"kind": t.kind, "path": str(t.path)} for t in trees])
    # Not -I: it would hide PYTHONPYCACHEPREFIX from the worker and from its compiling processes.
    items = run_json_worker([str(python), "-s", str(WORKER), str(PYC_CHECK), spec], env, COMPILE_TIMEOUT_S,
                            f"compiling bytecode with {python}", EnvironmentSetupError)
    try:
        return [TreeResult(**item) for item in items]
    except TypeError as exc:
        raise EnvironmentSetupError(f"the bytecode compiler on {python} answered an unexpected result: {exc}") from None


def prepare(pythons: Sequence[Path], app_trees: Sequence[Tree], mode: Mode,
            say: Callable[[str], None] = lambda _: None, root: Path | None = None) -> Prepared:
    """The bytecode state of one interpreter's servers, made so.

    ``pythons`` are the environments its servers run (the lab's app environment, or a
    team's), all of one base interpreter; the first also compiles ``app_trees``.
    """
    started = time.monotonic()
    prefix = prefix_for(pythons[0], mode, root)
    done: list[TreeResult] = []
    seen: set[Path] = set()
    for index, python in enumerate(pythons):
        stdlib, site = stdlib_and_site(python)
        trees = [Tree("stdlib", stdlib)] if stdlib not in seen else []
        seen.add(stdlib)
        if mode == "compiled":
            trees += [Tree("site-packages", site)] + (list(app_trees) if index == 0 else [])
        done += compile_trees(python, prefix, trees)
    compiled = sum(t.compiled for t in done)
    failed = sum(t.failed for t in done)
    seconds = round(time.monotonic() - started, 2)
    say(f"    bytecode ({mode}) for {pythons[0]}: {sum(t.files for t in done)} files checked, {compiled} compiled"
        + (f", {failed} could not be (they load from source)" if failed else "") + f" in {seconds:g} s -> {prefix}")
    return Prepared(mode, prefix, tuple(done), seconds, shell_values())
