"""Find, build and verify the two interpreters the lab compares.

Resolution order, per interpreter:

1. explicit paths: ``--python-gil`` / ``--python-ft`` or ``LAB_PYTHON_GIL`` / ``LAB_PYTHON_FT``;
2. a cached source build (keyed by tarball hash and flags), rebuilt first if it lacks a
   wanted module whose headers have been installed since;
3. interpreters already on the machine: PATH, pyenv, ``uv python find``;
4. the ways out of ``acquisition``: a source tarball on disk, ``uv python install``,
   the pinned tarball downloaded and built.

Whatever is found is *run* to verify it: its version, the ``Py_GIL_DISABLED`` build
flag and ``sys._is_gil_enabled()`` at start. A free-threaded candidate that is not
one is an error, never a warning.

This module uses only the standard library: it runs before any venv exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadtests.core.errors import DownloadError, InterpreterError, UvError
from loadtests.core.progress import note, step
from loadtests.provision import acquisition, build_completion, cpython_build, uv_tool
from loadtests.provision.process_env import clean_env
from loadtests.provision.resolve_options import DEFAULT_VERSION as DEFAULT_VERSION
from loadtests.provision.resolve_options import (
    ENV_VARS,
    ROLE_NAMES,
    ROLES,
    ResolveOptions,
    executable_name,
    uv_request,
)

# Runs inside the candidate interpreter. PYTHON_GIL is removed from its environment
# so that the GIL state seen is the interpreter's own default.
PROBE = r"""
import json, platform, sys, sysconfig
print(json.dumps({
    "executable": sys.executable,
    "version": platform.python_version(),
    "implementation": sys.implementation.name,
    "free_threaded": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
    "gil_enabled": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True,
    "gil_flag": getattr(sys.flags, "gil", None),
    "configure_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
    "prefix": sys.prefix,
    "compiler": platform.python_compiler(),
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """A verified interpreter and how it was found."""

    role: str  # "gil" or "ft"
    path: str
    version: str
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    gil_flag: int | None
    configure_args: str
    compiler: str
    source: str  # how it was resolved: explicit, cache, path, pyenv, uv-find, uv-install, source-build
    build: dict[str, object] | None = field(default=None)

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def label(self) -> str:
        """The name reports use: ``3.14`` or ``3.14t``."""
        return self.minor + ("t" if self.free_threaded else "")

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["label"] = self.label
        return data


def probe(path: Path | str, timeout: float = 30.0) -> dict[str, object]:
    """Run the probe in an interpreter and return what it reports."""
    try:
        proc = subprocess.run(
            [str(path), "-I", "-c", PROBE], capture_output=True, text=True, timeout=timeout, env=clean_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"Cannot run {path}: {exc}") from exc
    if proc.returncode != 0:
        raise InterpreterError(f"{path} failed to start (exit {proc.returncode}):\n{proc.stderr.strip()[-2000:]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise InterpreterError(f"{path} did not answer the probe: {proc.stdout[-500:]!r}") from exc


def verify(path: Path | str, role: str, version: str, source: str) -> Interpreter:
    """Run ``path`` and check it is the interpreter ``role`` needs; raise with a remedy otherwise."""
    facts = probe(path)
    where = f"{path} (found via {source})"
    if facts["implementation"] != "cpython":
        raise InterpreterError(f"{where} is {facts['implementation']}, not CPython.")
    if not str(facts["version"]).startswith(version + ".") and facts["version"] != version:
        raise InterpreterError(f"{where} is Python {facts['version']}, but the lab compares Python {version}.x.")
    if role == "ft":
        if not facts["free_threaded"]:
            raise InterpreterError(
                f"{where} was offered as the free-threaded interpreter, but it is a standard GIL build "
                f"(Py_GIL_DISABLED is not set). Point {ENV_VARS['ft']} at a python{version}t binary, or unset it "
                "so the lab finds or builds one."
            )
        if facts["gil_enabled"]:
            raise InterpreterError(
                f"{where} is a free-threaded build, but the GIL is enabled at start. Something in its start-up "
                "(a sitecustomize, or a .pth file importing a GIL-requiring extension) re-enables it."
            )
    else:
        if facts["free_threaded"]:
            raise InterpreterError(
                f"{where} was offered as the standard interpreter, but it is a free-threaded build. Point "
                f"{ENV_VARS['gil']} at a python{version} (GIL) binary."
            )
    resolved = Path(str(facts["executable"]) or str(path))
    return Interpreter(
        role=role,
        path=str(path),
        version=str(facts["version"]),
        implementation=str(facts["implementation"]),
        free_threaded=bool(facts["free_threaded"]),
        gil_enabled=bool(facts["gil_enabled"]),
        gil_flag=facts["gil_flag"] if isinstance(facts["gil_flag"], int) else None,
        configure_args=str(facts["configure_args"]),
        compiler=str(facts["compiler"]),
        source=source,
        build=cpython_build.read_build_record(resolved),
    )


def _cache_candidates(options: ResolveOptions, role: str) -> Iterable[Path]:
    """Finished cached builds: the one for the configured tarball first, then any other."""
    if options.source_tarball and Path(options.source_tarball).is_file():
        digest = cpython_build.sha256_of(Path(options.source_tarball))
        spec = cpython_build.BuildSpec(Path(options.source_tarball), digest, role, options.optimized)
        found = cpython_build.cached_build(spec)
        if found:
            yield found
        return  # a configured tarball pins the cache entry: never mix in builds of other sources
    root = cpython_build.cache_dir() / "cpython"
    flags_key = cpython_build.BuildSpec(Path("-"), "-", role, options.optimized).flags_key
    for prefix in sorted(root.glob(f"*/{role}-{flags_key}")):
        if (prefix / "gil-lab-build.json").is_file():
            exe = cpython_build.executable_in(prefix, role)
            if exe:
                yield exe


def _path_candidates(options: ResolveOptions, role: str) -> Iterable[Path]:
    found = shutil.which(executable_name(options.version, role))
    if found:
        yield Path(found)


def _pyenv_candidates(options: ResolveOptions, role: str) -> Iterable[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    suffix = "t" if role == "ft" else ""
    for version_dir in sorted(root.glob(f"{options.version}.*{suffix}"), reverse=True):
        exe = version_dir / "bin" / executable_name(options.version, role)
        if exe.is_file():
            yield exe


def _uv_find_candidates(options: ResolveOptions, role: str) -> Iterable[Path]:
    uv = uv_tool.find_uv()  # never installs uv: finding is not a reason to go online
    found = uv_tool.python_find(uv, uv_request(options.version, role)) if uv else None
    if found:
        yield found


Finder = Callable[[ResolveOptions, str], Iterable[Path]]
MACHINE_FINDERS: list[tuple[str, Finder]] = [
    ("cache", _cache_candidates),
    ("path", _path_candidates),
    ("pyenv", _pyenv_candidates),
    ("uv-find", _uv_find_candidates),
]


def _first_verified(options: ResolveOptions, role: str, rejected: list[str]) -> Interpreter | None:
    for source, finder in MACHINE_FINDERS:
        if source != "cache" and not options.search_machine:
            continue
        for candidate in finder(options, role):
            try:
                found = verify(candidate, role, options.version, source)
                if source == "cache" and options.allow_build:
                    rebuilt = build_completion.complete(candidate, found.build, options)
                    if rebuilt:
                        found = verify(rebuilt, role, options.version, source)
                return found
            except InterpreterError as exc:
                rejected.append(f"  - {source}: {exc}")
    return None


def _acquire(options: ResolveOptions, missing: tuple[str, ...], found: dict[str, Interpreter],
             rejected: list[str], tried: list[str]) -> None:
    """Take the ways out in order until every missing role is found; record why each one did not do."""
    stages = acquisition.STAGES
    for index, stage in enumerate(stages):
        missing = tuple(role for role in missing if role not in found)
        if not missing:
            return
        following = stages[index + 1].title if index + 1 < len(stages) else None
        try:
            candidates = stage.run(options, missing)
        except acquisition.Unavailable as exc:
            outcome = f"skipped: {exc}"
        except (UvError, DownloadError) as exc:
            outcome = f"failed: {exc}"
        else:
            for role, path in candidates.items():
                try:
                    found[role] = verify(path, role, options.version, stage.source)
                except InterpreterError as exc:
                    rejected.append(f"  - {stage.source}: {exc}")
            left = [executable_name(options.version, r) for r in missing if r not in found]
            outcome = f"gave no usable {' or '.join(left)}" if left else "done"
        tried.append(f"  - {stage.title}: {outcome}")
        if outcome != "done":
            note(f"{stage.title} {outcome}" + (f"; trying {following}" if following else ""))


def resolve(options: ResolveOptions) -> dict[str, Interpreter]:
    """Resolve and verify both interpreters; install or build them as a last resort."""
    found: dict[str, Interpreter] = {}
    rejected: list[str] = []
    for role in ROLES:
        if role in options.explicit:
            # An explicit path is a promise: if it is wrong, say so rather than look elsewhere.
            found[role] = verify(Path(options.explicit[role]).expanduser(), role, options.version, "explicit")
            continue
        interpreter = _first_verified(options, role, rejected)
        if interpreter:
            found[role] = interpreter
    missing = tuple(role for role in ROLES if role not in found)
    if missing:
        names = " and ".join(executable_name(options.version, r) for r in missing)
        with step(f"get {names} (not found on this machine)"):
            tried: list[str] = []
            _acquire(options, missing, found, rejected, tried)
            missing = tuple(role for role in ROLES if role not in found)
            if missing:
                raise _nothing_found(options, missing, rejected, tried)
    check_pair(found)
    return found


def _nothing_found(options: ResolveOptions, missing: tuple[str, ...], rejected: list[str],
                   tried: list[str]) -> InterpreterError:
    names = " and ".join(f"{ROLE_NAMES[r]} ({executable_name(options.version, r)})" for r in missing)
    detail = ("\nCandidates rejected:\n" + "\n".join(rejected)) if rejected else ""
    attempts = ("\nTried:\n" + "\n".join(tried)) if tried else ""
    return InterpreterError(f"No {names} interpreter found.{detail}{attempts}\n" + acquisition.remedies(options, missing))


def check_pair(found: dict[str, Interpreter]) -> None:
    """Both interpreters must be the same CPython minor version."""
    gil, ft = found["gil"], found["ft"]
    if gil.minor != ft.minor:
        raise InterpreterError(
            f"The interpreters differ in version: {gil.path} is {gil.version}, {ft.path} is {ft.version}. "
            "Compare like with like: use the same CPython release for both."
        )
