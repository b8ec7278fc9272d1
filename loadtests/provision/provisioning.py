"""Provision everything a run needs: both interpreters and the three environments.

``provision()`` is what ``make setup`` (via ``loadtests.cli.bootstrap``) and
``gil-lab setup`` call. The resolved interpreters are recorded in
``.envs/interpreters.json`` so later commands (``doctor``, ``run``) use the same ones
without searching again; they are re-verified by running them whenever loaded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.errors import InterpreterError
from loadtests.core.jsonfile import write_json_atomic
from loadtests.core.paths import envs_dir, setup_command
from loadtests.core.progress import format_seconds, step
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter, ResolveOptions, resolve, verify


@dataclass(frozen=True)
class Provisioned:
    interpreters: dict[str, Interpreter]
    environments: dict[str, dict]
    seconds: float


def state_file() -> Path:
    return envs_dir() / "interpreters.json"


def save_interpreters(interpreters: dict[str, Interpreter]) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique temporary name: two set-ups at once never write into each other's file
    write_json_atomic(path, {role: i.to_json() for role, i in interpreters.items()}, indent=2)


def load_interpreters(verify_again: bool = True) -> dict[str, Interpreter]:
    """The interpreters recorded by the last set-up; raise with a remedy if there are none."""
    path = state_file()
    if not path.is_file():
        raise InterpreterError(f"The lab is not set up yet: no interpreters are recorded in {path}. "
                               f"Run `{setup_command()}`.")
    data = json.loads(path.read_text())
    result = {}
    for role, info in data.items():
        if verify_again:
            result[role] = verify(info["path"], role, info["version"].rsplit(".", 1)[0], info["source"])
        else:
            info = {k: v for k, v in info.items() if k != "label"}
            result[role] = Interpreter(**info)
    return result


def provision(options: ResolveOptions, force_sync: bool = False) -> Provisioned:
    started = time.monotonic()
    with step("resolve interpreters (3.14 and 3.14t)"):
        interpreters = resolve(options)
        for interpreter in interpreters.values():
            print(f"    {interpreter.label:6} {interpreter.path}  [{interpreter.source}] "
                  f"free_threaded={interpreter.free_threaded} gil_enabled={interpreter.gil_enabled}", flush=True)
    save_interpreters(interpreters)
    environments = {spec.name: envs.sync(spec, force=force_sync) for spec in envs.env_specs(interpreters)}
    seconds = time.monotonic() - started
    print(f"==> set-up complete in {format_seconds(seconds)}", flush=True)
    return Provisioned(interpreters, environments, seconds)
