"""App environments for a team's own service: the lab's app dependencies plus the team's, on 3.14 and 3.14t.

Given a requirements file (a ``requirements.txt``, or a ``pyproject.toml`` whose
``[project].dependencies`` are used), :func:`sync_app_envs` builds two environments
under ``.envs/``, one per interpreter. Each holds the lab's ``app`` extra (servers,
FastAPI; the same version ranges as the lab's own environments) and the team's
requirements, resolved against that real interpreter with
``uv pip compile --python <interpreter> --generate-hashes`` and installed with
``uv pip sync``, plus the lab's ASGI layer (``gil_lab_layer``). The lab's own
``.envs/app-gil`` and ``.envs/app-ft`` are never touched.

- **Keyed by content.** An environment's name is ``own-<gil|ft>-<hash>``: the hash of
  the requirements text, the lab's app requirements, the interpreter's path and
  version, and the layer's source. A stamp written last records what was installed,
  so a second sync with the same inputs reads one file and returns.
- **3.14t may be unavailable.** A package that cannot be installed on 3.14t (no
  wheel, and its source build fails) does not stop anything: the 3.14t environment is
  returned as unavailable, naming the package and uv's reason. The 3.14 environment
  is still built. That outcome is stamped too, so it is not retried until an input
  changes.
- **Differences.** Where the interpreters resolve different versions of a package,
  :attr:`AppEnvs.differences` lists them.
- **Errors.** A missing file, a pyproject.toml without ``[project].dependencies``, or
  requirements that cannot be resolved on 3.14 raise :class:`RequirementsError`; a
  contradiction with the lab's own requirements raises :class:`RequirementsConflict`
  naming both sides.
- **Indexes.** uv reads ``UV_DEFAULT_INDEX``/``UV_INDEX_URL``, ``UV_INDEX`` and the
  proxy variables itself; ``PIP_INDEX_URL`` and ``PIP_EXTRA_INDEX_URL`` are mapped to
  their uv equivalents when those are unset. ``PIP_TRUSTED_HOST`` is not: its uv
  equivalent, ``UV_INSECURE_HOST``, turns off certificate checks for those hosts, which
  a user should ask uv for in uv's own words, not get from a pip setting.
- **Time.** Each uv command ends within ``LAB_UV_TIMEOUT`` seconds (default 1800: a
  source build of a large package fits), or it is killed and the set-up fails saying so.

Uses only the standard library, like the rest of provision. ``python -m
loadtests.provision.app_envs REQUIREMENTS`` syncs both environments and prints the
result as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.distributions import normalise
from loadtests.core.errors import EnvironmentSetupError, RequirementsConflict, RequirementsError
from loadtests.core.paths import envs_dir, setup_command
from loadtests.core.progress import step
from loadtests.provision import env_lock, envs
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.process_env import installer_env

ENV_PREFIX = "own"
LAB_INPUT = "lab-requirements.in"
TEAM_INPUT = "team-requirements.in"  # written for a pyproject.toml; a requirements.txt is used in place
LOCK_NAME = "requirements.lock"
LOG_NAME = "gil-lab-install.log"
#: Lines of uv's output kept as the reason an environment could not be built.
REASON_LINES = 12
#: uv's name for each pip variable, with the uv variables that already say the same.
PIP_TO_UV = (
    ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", ("UV_DEFAULT_INDEX", "UV_INDEX_URL")),
    ("PIP_EXTRA_INDEX_URL", "UV_INDEX", ("UV_INDEX", "UV_EXTRA_INDEX_URL")),
)
UV_TIMEOUT_ENV = "LAB_UV_TIMEOUT"
UV_TIMEOUT_S = 1800.0
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;\\]+)|@\s*([^\s;\\]+))", re.M)
_BUILD_FAILED = re.compile(r"Failed to (?:download and )?build `([^`]+)`")
_NO_SOLUTION = "No solution found when resolving dependencies"


@dataclass(frozen=True)
class Requirement:
    """One requirement line and the distribution it names (``None`` for options such as ``-e``)."""

    text: str
    name: str | None


@dataclass(frozen=True)
class TeamRequirements:
    """The team's requirements: the file, its text (what is hashed) and its lines."""

    path: Path
    text: str
    requirements: tuple[Requirement, ...]
    from_pyproject: bool

    @classmethod
    def read(cls, path: Path | str) -> TeamRequirements:
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise RequirementsError(f"the requirements file {path} does not exist. Give a requirements.txt, or a "
                                    "pyproject.toml whose [project].dependencies list the service's requirements.")
        if path.suffix == ".toml":
            return cls._from_pyproject(path)
        text = path.read_text()
        return cls(path, text, tuple(parse_requirements(text.splitlines())), from_pyproject=False)

    @classmethod
    def _from_pyproject(cls, path: Path) -> TeamRequirements:
        import tomllib

        try:
            project = tomllib.loads(path.read_text()).get("project", {})
        except tomllib.TOMLDecodeError as error:
            raise RequirementsError(f"{path} is not valid TOML: {error}") from None
        dependencies = project.get("dependencies") if isinstance(project, dict) else None
        if not isinstance(dependencies, list) or not all(isinstance(item, str) for item in dependencies):
            dynamic = "dependencies" in (project.get("dynamic") or []) if isinstance(project, dict) else False
            why = "declares them dynamic" if dynamic else "has no [project].dependencies list"
            raise RequirementsError(f"{path} {why}: the lab installs the service's requirements from a static "
                                    "[project].dependencies list, or from a requirements.txt (give that instead).")
        text = "".join(f"{line}\n" for line in dependencies)
        return cls(path, text, tuple(parse_requirements(dependencies)), from_pyproject=True)

    def named(self) -> list[Requirement]:
        return [requirement for requirement in self.requirements if requirement.name]


def parse_requirements(lines: Iterable[str]) -> list[Requirement]:
    """Requirement lines without comments, continuations and per-line options; options are kept nameless."""
    found = []
    for raw in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines():  # join continued lines first
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
        line = re.split(r"\s--", line, maxsplit=1)[0].strip()  # --hash=... after a requirement
        if not line:
            continue
        match = None if line.startswith("-") else _NAME.match(line)
        found.append(Requirement(line, normalise(match.group(1)) if match else None))
    return found


def lab_requirements() -> list[Requirement]:
    """The lab's app dependencies: the ``app`` list of ``locks/app-requirements.toml`` and the servers'."""
    return parse_requirements(envs.app_environment_requirements())


@dataclass(frozen=True)
class Unavailable:
    """Why an environment could not be built: the package (when uv named one) and uv's last words."""

    package: str | None
    reason: str


@dataclass(frozen=True)
class AppEnv:
    """One built (or unavailable) environment for the team's app."""

    flavour: str  # "gil" or "ft"
    label: str  # "3.14" or "3.14t"
    path: Path
    interpreter: str
    lock_file: Path | None
    packages: Mapping[str, str] = field(default_factory=dict)
    unavailable: Unavailable | None = None

    @property
    def available(self) -> bool:
        return self.unavailable is None

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def to_json(self) -> dict[str, Any]:
        return {
            "flavour": self.flavour, "label": self.label, "path": str(self.path), "interpreter": self.interpreter,
            "available": self.available, "python": str(self.python) if self.available else None,
            "lock_file": None if self.lock_file is None else str(self.lock_file), "packages": dict(self.packages),
            "unavailable": None if self.unavailable is None else {"package": self.unavailable.package,
                                                                  "reason": self.unavailable.reason},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppEnv:
        missing = data.get("unavailable")
        return cls(data["flavour"], data["label"], Path(data["path"]), data["interpreter"],
                   None if data.get("lock_file") is None else Path(data["lock_file"]), dict(data.get("packages", {})),
                   None if missing is None else Unavailable(missing.get("package"), missing["reason"]))


@dataclass(frozen=True)
class VersionDifference:
    """A package the two interpreters resolved differently (``None``: not installed on that side)."""

    package: str
    gil: str | None
    ft: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"package": self.package, "gil": self.gil, "ft": self.ft}


@dataclass(frozen=True)
class AppEnvs:
    """Both environments for one requirements file, and where their resolutions differ."""

    requirements: Path
    gil: AppEnv
    ft: AppEnv
    differences: tuple[VersionDifference, ...]

    def to_json(self) -> dict[str, Any]:
        return {"requirements": str(self.requirements), "gil": self.gil.to_json(), "ft": self.ft.to_json(),
                "differences": [difference.to_json() for difference in self.differences]}


def uv_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment uv runs in: no PYTHON_GIL, and pip's index settings mapped to uv's where uv's are unset."""
    env = installer_env() if environ is None else dict(environ)
    for pip_name, uv_name, uv_names in PIP_TO_UV:
        if env.get(pip_name) and not any(env.get(name) for name in uv_names):
            env[uv_name] = " ".join(env[pip_name].split())
    return env


def env_name(flavour: str, team: TeamRequirements, interpreter: Interpreter) -> tuple[str, str]:
    """``own-<flavour>-<hash>`` and the full hash of everything the environment's contents depend on."""
    digest = hashlib.sha256()
    for part in (team.text, "\n".join(r.text for r in lab_requirements()), interpreter.path, interpreter.version,
                 envs.layer_digest()):
        digest.update(hashlib.sha256(part.encode()).digest())
    full = digest.hexdigest()
    return f"{ENV_PREFIX}-{flavour}-{full[:16]}", full


def sync_app_envs(requirements: Path | str, interpreters: Mapping[str, Interpreter], uv: list[str] | None = None,
                  force: bool = False) -> AppEnvs:
    """Build (or find up to date) both environments for ``requirements``; see the module docstring."""
    team = TeamRequirements.read(requirements)
    uv = uv or envs.installer()
    if not uv:
        raise EnvironmentSetupError(f"building environments for your own service needs uv: run `{setup_command()}` "
                                    "(it installs uv), or install uv on the PATH.")
    if os.environ.get("PIP_TRUSTED_HOST") and not os.environ.get("UV_INSECURE_HOST"):
        print("    note: PIP_TRUSTED_HOST is not passed on to uv: it would turn off certificate checks for those hosts; "
              "set UV_INSECURE_HOST if you mean that", file=sys.stderr)
    gil = _sync_one("gil", team, interpreters["gil"], uv, force)
    ft = _sync_one("ft", team, interpreters["ft"], uv, force)
    return AppEnvs(team.path, gil, ft, version_differences(gil.lock_file, ft.lock_file))


def locked_versions(lock_file: Path | None) -> dict[str, str]:
    """``name -> version`` (or the URL of a direct reference) from a lock file uv wrote."""
    if lock_file is None or not lock_file.is_file():
        return {}
    return {normalise(m.group(1)): m.group(2) or m.group(3) for m in _PIN.finditer(lock_file.read_text())}


def version_differences(gil_lock: Path | None, ft_lock: Path | None) -> tuple[VersionDifference, ...]:
    """Packages resolved differently on the two interpreters; nothing when either side has no lock."""
    gil, ft = locked_versions(gil_lock), locked_versions(ft_lock)
    if not gil or not ft:
        return ()
    return tuple(VersionDifference(name, gil.get(name), ft.get(name))
                 for name in sorted(gil.keys() | ft.keys()) if gil.get(name) != ft.get(name))


def _sync_one(flavour: str, team: TeamRequirements, interpreter: Interpreter, uv: list[str], force: bool) -> AppEnv:
    name, digest = env_name(flavour, team, interpreter)
    path = envs_dir() / name
    stamp = read_stamp_file(path)
    if not force and stamp is not None and stamp.get("stamp") == digest:
        env = AppEnv.from_json(stamp["env"])
        if not env.available or env.python.exists():
            print(f"    {name}: up to date ({path})", file=sys.stderr)
            return env
    with env_lock.building(path):
        stamp = read_stamp_file(path)
        if not force and stamp is not None and stamp.get("stamp") == digest:  # another set-up built it meanwhile
            return AppEnv.from_json(stamp["env"])
        with step(f"sync environment {name} ({interpreter.label}) from {team.path.name}"):
            env = _build(flavour, team, interpreter, uv, path)
            write_stamp_file(path, {"stamp": digest, "requirements": str(team.path), "env": env.to_json()})
    if env.unavailable is not None:
        print(f"    note: no {interpreter.label} environment for this service: "
              f"{env.unavailable.package or 'a requirement'} cannot be installed there", file=sys.stderr)
    return env


def _build(flavour: str, team: TeamRequirements, interpreter: Interpreter, uv: list[str], path: Path) -> AppEnv:
    if path.exists():
        shutil.rmtree(path)
    run_uv(uv, ["venv", "--quiet", "--python", interpreter.path, str(path)], path.parent, check=f"creating {path}")
    lab_input = path / LAB_INPUT
    lab_input.write_text("# gil-lab's app dependencies (the app list of its locks/app-requirements.toml)\n"
                         + "".join(f"{r.text}\n" for r in lab_requirements()))
    team_input = team.path
    if team.from_pyproject:
        team_input = path / TEAM_INPUT
        team_input.write_text(f"# [project].dependencies of {team.path}\n{team.text}")
    lock, python = path / LOCK_NAME, path / "bin" / "python"
    # uv runs from the team file's directory, so relative paths in it mean what they mean to the team.
    # The lock names its indexes and find-links, so the sync installs from where the resolution looked.
    compiled = run_uv(uv, ["pip", "compile", str(lab_input), str(team_input), "--python", interpreter.path,
                        "--generate-hashes", "--emit-index-url", "--emit-find-links", "--no-header", "--quiet",
                        "-o", str(lock)], team.path.parent)
    if compiled.returncode != 0:
        return _failed(flavour, team, interpreter, uv, path, compiled, locked=False)
    synced = run_uv(uv, ["pip", "sync", "--python", str(python), str(lock)], team.path.parent)
    if synced.returncode != 0:
        return _failed(flavour, team, interpreter, uv, path, synced, locked=True)
    envs.install_layer(python)
    return AppEnv(flavour, interpreter.label, path, interpreter.path, lock, envs.installed_packages(python))


def _failed(flavour: str, team: TeamRequirements, interpreter: Interpreter, uv: list[str], path: Path,
            result: subprocess.CompletedProcess[str], locked: bool) -> AppEnv:
    """Decide what a failed compile or sync means: 3.14t unavailable, a conflict, or an error."""
    output = (result.stdout + result.stderr).strip()
    (path / LOG_NAME).write_text(f"$ {' '.join(map(str, result.args))}\n{output}\n")
    reason = why(output)
    built = _BUILD_FAILED.search(output)
    if built is None and not locked and _NO_SOLUTION in output:
        alone = run_uv(uv, ["pip", "compile", str(path / TEAM_INPUT if team.from_pyproject else team.path),
                         "--python", interpreter.path, "--no-header", "--quiet"], team.path.parent)
        if alone.returncode == 0:
            raise _conflict(team, interpreter, output)
        package = _first_named(team.named(), output)
    elif built is not None:
        package = _package_of(built.group(1))
    else:
        raise EnvironmentSetupError(f"uv could not {'install' if locked else 'resolve'} the requirements of "
                                    f"{team.path} on {interpreter.label} (log: {path / LOG_NAME}):\n{reason}")
    if not interpreter.free_threaded:
        raise RequirementsError(f"your requirements ({team.path}) cannot be installed on {interpreter.label}"
                                f"{f' (uv names {package})' if package else ''}; log: {path / LOG_NAME}. uv says:\n"
                                f"{reason}")
    _keep_only_records(path)
    return AppEnv(flavour, interpreter.label, path, interpreter.path, path / LOCK_NAME if locked else None,
                  unavailable=Unavailable(package, reason))


def why(output: str, lines: int = REASON_LINES) -> str:
    """uv's headline (``error: ...``) and the last lines of its output, without hints and traceback markers."""
    kept = [line.rstrip() for line in output.splitlines()
            if line.strip() and not line.lstrip().startswith(("hint:", "Using Python ")) and set(line.strip()) - set("~^")]
    headline = next((line for line in kept if line.startswith("error:")), None)
    tail = kept[-lines:]
    return "\n".join([headline, "  ..."] + tail if headline and headline not in tail else tail)


def _conflict(team: TeamRequirements, interpreter: Interpreter, output: str) -> RequirementsConflict:
    explanation = "\n".join(line for line in output.splitlines() if line.strip())
    yours = _named_in(team.named(), explanation) or team.named()
    labs = _named_in(lab_requirements(), explanation) or lab_requirements()
    return RequirementsConflict(
        f"your requirements conflict with gil-lab's own app requirements on {interpreter.label}:\n"
        f"  yours ({team.path}): {', '.join(r.text for r in yours)}\n"
        f"  the lab's (the app list of gil-lab's locks/app-requirements.toml): "
        f"{', '.join(r.text for r in labs)}\n"
        "The lab installs its servers and app dependencies beside your service, so both must hold: relax your "
        f"pin to a version inside the lab's range.\nuv says:\n{why(output, lines=40)}",
        team=[r.text for r in yours], lab=[r.text for r in labs],
    )


def _named_in(requirements: Iterable[Requirement], text: str) -> list[Requirement]:
    """The requirements whose distribution name appears in ``text`` (``-``/``_``/``.`` alike)."""
    found = []
    for requirement in requirements:
        if requirement.name is None:
            continue
        pattern = r"(?<![A-Za-z0-9._-])" + r"[-_.]".join(map(re.escape, requirement.name.split("-"))) + r"(?![A-Za-z0-9_-])"
        if re.search(pattern, text, re.I):
            found.append(requirement)
    return found


def _first_named(requirements: Iterable[Requirement], text: str) -> str | None:
    named = _named_in(requirements, text)
    return named[0].name if named else None


def _package_of(spec: str) -> str:
    """``gilbreaker @ file:///...`` or ``numpy==2.3.0`` -> the distribution name."""
    match = _NAME.match(spec.strip())
    return normalise(match.group(1)) if match else spec


def _keep_only_records(path: Path) -> None:
    """An unavailable environment keeps its inputs, lock and log, and no interpreter anyone could run by mistake."""
    for entry in path.iterdir():
        if entry.name in (LAB_INPUT, TEAM_INPUT, LOCK_NAME, LOG_NAME):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def uv_timeout() -> float:
    text = os.environ.get(UV_TIMEOUT_ENV, "").strip()
    if not text:
        return UV_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise EnvironmentSetupError(f"{UV_TIMEOUT_ENV} takes a number of seconds above 0, not {text!r}")
    return seconds


def run_uv(uv: list[str], args: list[str], cwd: Path, check: str | None = None) -> subprocess.CompletedProcess[str]:
    """``uv ARGS`` in its own session, ended within ``LAB_UV_TIMEOUT`` (raises EnvironmentSetupError past it)."""
    limit = uv_timeout()
    # its own session: on a timeout or Ctrl-C, uv goes with the build backends it started
    process = subprocess.Popen([*uv, *args], cwd=cwd, env=uv_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise EnvironmentSetupError(f"`uv {' '.join(args[:2])}` did not finish within {limit:g} s and was "
                                        f"stopped (an index that does not answer?); {UV_TIMEOUT_ENV} sets the "
                                        "limit") from None
        raise
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise EnvironmentSetupError(f"{check} failed (exit {result.returncode}):\n{why(result.stdout + result.stderr)}")
    return result


def read_stamp_file(path: Path) -> dict[str, Any] | None:
    """A content-keyed environment's stamp (``{"stamp": hash, "env": {...}}``), or None when it has none."""
    try:
        data = json.loads((path / envs.STAMP_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("env"), dict) else None


def write_stamp_file(path: Path, data: dict[str, Any]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / envs.STAMP_NAME).write_text(json.dumps(data, indent=2, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    from loadtests.core.errors import LabError
    from loadtests.provision.provisioning import load_interpreters

    parser = argparse.ArgumentParser(prog="python -m loadtests.provision.app_envs",
                                     description="Build the 3.14 and 3.14t environments for your own service.")
    parser.add_argument("requirements", help="requirements.txt, or a pyproject.toml with [project].dependencies")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamps say up to date")
    args = parser.parse_args(argv)
    try:
        result = sync_app_envs(args.requirements, load_interpreters(verify_again=False), force=args.force)
    except LabError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
