"""Before the first server starts: every interpreter's bytecode state made what the run asks (``--bytecode``).

What each interpreter's servers import is compiled into the lab's own cache prefix
(``provision.bytecode``): the app environment's site-packages (the lab's, or a team's),
the app's modules (the lab's app, or a team's app directory) and every drop-in route
directory. An app the lab does not start (``--app-url``) is not under its control: its
state is recorded as unknown. A resumed run checks the state it recorded again (a tree
that changed since is compiled again), so its later windows load modules as its earlier
ones did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from loadtests.core.flavour import by_label
from loadtests.core.paths import LAB_ROOT
from loadtests.measure.run_record import RunOptions
from loadtests.provision import bytecode, envs
from loadtests.results.records import (
    UNKNOWN_BYTECODE,
    BytecodeMode,
    BytecodeState,
    CellConfig,
    CompiledTree,
    RunRecord,
    ServiceSettings,
)

Progress = Callable[[str], None]


def app_trees(configs: tuple[CellConfig, ...], service: ServiceSettings | None) -> list[bytecode.Tree]:
    """The app's own modules: the lab's app or a team's app directory, and the drop-in route directories."""
    team_dir = None if service is None else Path(service.app_dir).resolve()
    trees = [bytecode.Tree("app", LAB_ROOT / "app")] if team_dir in (None, LAB_ROOT.resolve()) else \
        [bytecode.Tree("team app", team_dir)]  # type: ignore[arg-type]  # not None here
    routes = sorted({d for c in configs for d in c.routes_dirs})
    return trees + [bytecode.Tree("routes", Path(d)) for d in routes]


def _pythons(label: str, service: ServiceSettings | None) -> list[Path]:
    env = service.environments.get(label) if service is not None else None
    if env is not None and env.available and env.python:
        return [Path(env.python)]
    return [envs.app_python(by_label(label).env_name)]


def _prepare(configs: tuple[CellConfig, ...], service: ServiceSettings | None, app_urls: Mapping[str, str],
             mode: BytecodeMode, progress: Progress) -> dict[str, BytecodeState]:
    labels = sorted({c.interpreter for c in configs})
    trees = app_trees(configs, service)
    out = {}
    for label in labels:
        if label in app_urls:
            out[label] = UNKNOWN_BYTECODE
            continue
        out[label] = as_record(bytecode.prepare(_pythons(label, service), trees, mode, progress))
    return out


def as_record(prepared: bytecode.Prepared) -> BytecodeState:
    """run.json's ``bytecode`` entry of one interpreter."""
    return BytecodeState(state=prepared.mode, cache_prefix=str(prepared.prefix), dont_write_bytecode=True,
                         trees=tuple(CompiledTree(kind=t.kind, path=t.path, files=t.files, compiled=t.compiled,
                                                  failed=t.failed, seconds=t.seconds) for t in prepared.trees),
                         seconds=prepared.seconds, shell=dict(prepared.shell))


def bytecode_states(options: RunOptions, progress: Progress, mode: BytecodeMode) -> dict[str, BytecodeState]:
    """Compile what a new run's servers import (``mode`` compiled), or only the standard library (source)."""
    progress(f"==> bytecode: {mode} (PYTHONPYCACHEPREFIX per interpreter, PYTHONDONTWRITEBYTECODE=1 on every "
             "server)" + _shell_note())
    return _prepare(options.plan.configs, options.service, options.app_urls, mode, progress)


def restore_bytecode(record: RunRecord, progress: Progress) -> None:
    """A resumed run's servers get the state its run.json recorded (an uncontrolled one is left alone)."""
    modes = {s.state for s in record.bytecode.values() if s.controlled}
    if not modes:
        return
    mode: BytecodeMode = "source" if modes == {"source"} else "compiled"
    progress(f"==> bytecode: {mode}, as the run recorded it")
    _prepare(record.settings.plan.configs, record.settings.service, record.settings.app_urls, mode, progress)


def _shell_note() -> str:
    shell = bytecode.shell_values()
    if not shell:
        return ""
    return "; your shell's " + ", ".join(f"{k}={v}" for k, v in shell.items()) + " is recorded, not passed on"
