"""Environments for running a team's tests: its lock plus the lab's pinned test tools, on 3.14 and 3.14t.

``gil-lab safety --tests`` runs the team's suite with pytest and pytest-run-parallel.
Those tools never go into the environments the servers are measured in; each
interpreter gets one more environment, ``.envs/own-tests-<gil|ft>-<hash>``, resolved
by ``uv pip compile`` from:

- the lock of the server environment of that interpreter (the team's requirements and
  the lab's app dependencies, exact versions: ``app_envs.py``), or the lab's own lock
  (``locks/app-<gil|ft>.txt``) for the built-in app, so the tests import what the
  servers run;
- the ``safety-tests`` list of ``locks/app-requirements.toml``: pytest and
  pytest-run-parallel at versions the lab pins;
- the team's test requirements (``--test-requirements``), if any.

Keyed by content, stamped and rebuilt only when an input changes, as ``app_envs``
does. A tool or test requirement that cannot be installed on 3.14t leaves that
environment unavailable with the package and uv's reason; the 3.14 one is still built.
Standard library only, like the rest of provision.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.errors import EnvironmentSetupError, RequirementsError
from loadtests.core.paths import envs_dir, setup_command
from loadtests.core.progress import step
from loadtests.provision import env_lock, envs
from loadtests.provision.app_envs import normalise, read_stamp_file, run_uv, why, write_stamp_file
from loadtests.provision.interpreters import Interpreter

ENV_PREFIX = "own-tests"
TOOLS_INPUT = "test-tools.in"
LOCK_NAME = "requirements.lock"
LOG_NAME = "gil-lab-install.log"
TOOLS_LIST = "safety-tests"
_BUILD_FAILED = re.compile(r"Failed to (?:download and )?build `([^`]+)`")
_NO_VERSION = re.compile(r"(?:Because|because) (?:there is no version of |only )?([A-Za-z0-9][A-Za-z0-9._-]*)")


def suite_tools() -> list[str]:
    """pytest and pytest-run-parallel as the lab pins them (``locks/app-requirements.toml``)."""
    return [str(r) for r in envs.app_requirements().get(TOOLS_LIST, [])]


@dataclass(frozen=True)
class SuiteEnv:
    """One interpreter's environment for the tests, or why it could not be built."""

    label: str
    path: Path
    lock_file: Path | None
    tools: Mapping[str, str] = field(default_factory=dict)  # pytest, pytest-run-parallel -> version
    unavailable_package: str | None = None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def lock_sha256(self) -> str | None:
        if self.lock_file is None or not self.lock_file.is_file():
            return None
        return hashlib.sha256(self.lock_file.read_bytes()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "path": str(self.path),
                "lock_file": None if self.lock_file is None else str(self.lock_file), "tools": dict(self.tools),
                "unavailable_package": self.unavailable_package, "unavailable_reason": self.unavailable_reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SuiteEnv:
        return cls(data["label"], Path(data["path"]), None if data["lock_file"] is None else Path(data["lock_file"]),
                   dict(data["tools"]), data["unavailable_package"], data["unavailable_reason"])


@dataclass(frozen=True)
class BaseLock:
    """What the servers of one interpreter run: a lock file, or why that interpreter has none."""

    lock: Path | None
    unavailable_package: str | None = None
    unavailable_reason: str | None = None


def sync_test_env(flavour: str, interpreter: Interpreter, base: BaseLock, test_requirements: Path | None = None,
                  uv: list[str] | None = None) -> SuiteEnv:
    """Build (or find up to date) the tests environment of one interpreter; see the module docstring."""
    uv = uv or envs.installer()
    if not uv:
        raise EnvironmentSetupError(f"the tests environments need uv: run `{setup_command()}` (it installs uv).")
    if test_requirements is not None and not test_requirements.is_file():
        raise RequirementsError(f"the test requirements file {test_requirements} does not exist")
    tools = suite_tools()
    if not tools:
        raise EnvironmentSetupError(f"locks/app-requirements.toml has no {TOOLS_LIST} list: the lab's files are "
                                    "incomplete; reinstall the lab")
    digest = hashlib.sha256()
    for part in ((base.lock.read_text() if base.lock else f"{base.unavailable_reason}"), "\n".join(tools),
                 test_requirements.read_text() if test_requirements else "", interpreter.path, interpreter.version):
        digest.update(hashlib.sha256(part.encode()).digest())
    path = envs_dir() / f"{ENV_PREFIX}-{flavour}-{digest.hexdigest()[:16]}"
    if base.lock is None:  # the servers' own environment could not be built there: neither can this one
        return SuiteEnv(interpreter.label, path, None, {}, base.unavailable_package,
                       base.unavailable_reason or "the app's environment could not be built")
    stamp = read_stamp_file(path)
    if stamp is not None and stamp.get("stamp") == digest.hexdigest():
        env = SuiteEnv.from_json(stamp["env"])
        if not env.available or env.python.exists():
            print(f"    {path.name}: up to date", file=sys.stderr)
            return env
    with env_lock.building(path):
        stamp = read_stamp_file(path)
        if stamp is not None and stamp.get("stamp") == digest.hexdigest():  # another set-up built it meanwhile
            return SuiteEnv.from_json(stamp["env"])
        with step(f"sync tests environment {path.name} ({interpreter.label})"):
            env = _build(interpreter, base.lock, tools, test_requirements, uv, path)
            write_stamp_file(path, {"stamp": digest.hexdigest(), "env": env.to_json()})
    return env


def _build(interpreter: Interpreter, base_lock: Path, tools: list[str], test_requirements: Path | None,
           uv: list[str], path: Path) -> SuiteEnv:
    if path.exists():
        shutil.rmtree(path)
    cwd = test_requirements.parent if test_requirements else envs_dir()
    created = run_uv(uv, ["venv", "--quiet", "--python", interpreter.path, str(path)], cwd)
    if created.returncode != 0:
        raise EnvironmentSetupError(f"creating the tests environment {path} failed:\n{why(created.stderr)}")
    (path / TOOLS_INPUT).write_text("# gil-lab's test tools (the safety-tests list of its app-requirements.toml)\n"
                                    + "".join(f"{t}\n" for t in tools))
    inputs = [str(base_lock), str(path / TOOLS_INPUT), *([str(test_requirements)] if test_requirements else [])]
    lock, python = path / LOCK_NAME, path / "bin" / "python"
    result = run_uv(uv, ["pip", "compile", *inputs, "--python", interpreter.path, "--generate-hashes",
                      "--emit-index-url", "--emit-find-links", "--no-header", "--quiet", "-o", str(lock)], cwd)
    if result.returncode == 0:
        result = run_uv(uv, ["pip", "sync", "--python", str(python), str(lock)], cwd)
        if result.returncode == 0:
            installed = envs.installed_packages(python)
            return SuiteEnv(interpreter.label, path, lock, {name: installed.get(name, "?") for name in _names(tools)})
    output = (result.stdout + result.stderr).strip()
    (path / LOG_NAME).write_text(f"$ {' '.join(map(str, result.args))}\n{output}\n")
    package = _package(output, [*tools, *(test_requirements.read_text().splitlines() if test_requirements else [])])
    if not interpreter.free_threaded:
        raise RequirementsError(f"the tests environment cannot be built on {interpreter.label}"
                                f"{f' (uv names {package})' if package else ''}; log: {path / LOG_NAME}. uv says:\n"
                                f"{why(output)}")
    for entry in path.iterdir():  # keep the inputs, lock and log; no interpreter anyone could run by mistake
        if entry.name not in (TOOLS_INPUT, LOCK_NAME, LOG_NAME):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    return SuiteEnv(interpreter.label, path, None, {}, package or "a test requirement", why(output))


def _names(lines: Iterable[str]) -> list[str]:
    out = []
    for line in lines:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
        if match and not line.lstrip().startswith("-"):
            out.append(normalise(match.group(1)))
    return out


def _package(output: str, candidates: list[str]) -> str | None:
    built = _BUILD_FAILED.search(output)
    if built:
        return normalise(re.split(r"[\s=<>@!~;]", built.group(1).strip(), maxsplit=1)[0])
    for name in _names(candidates):
        if re.search(r"(?<![\w.-])" + r"[-_.]".join(map(re.escape, name.split("-"))) + r"(?![\w-])", output, re.I):
            return name
    match = _NO_VERSION.search(output)
    return normalise(match.group(1)) if match else None

