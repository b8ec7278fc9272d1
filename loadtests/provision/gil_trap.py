"""Build the lab's deliberate GIL offender, ``gil_lab_trap``, for one interpreter (claim C5).

``scenarios/gil_trap_ext/gil_lab_trap.c`` is a tiny extension module with no
``Py_mod_gil`` slot, so importing it on 3.14t turns the GIL back on with nothing but a
RuntimeWarning. ``scenarios/gil_trap_routes/trap.py`` imports it, which makes a drop-in
route directory that silently costs the free-threaded build its parallelism: exactly
what ``gil-lab audit`` and the ``gil-trap`` preset exist to show.

The extension is compiled with gcc against the headers of the interpreter that will
import it (its own ``sysconfig``: ``INCLUDEPY``, ``EXT_SUFFIX``), into the user cache
(``cache_dir()/gil-trap/<hash of source and interpreter>``), never into the
repository: a build for 3.14t cannot be imported by 3.14, and the tree stays clean.
A build that exists is reused, so :func:`ensure_trap_extension` is cheap to call.

From a shell: ``export LAB_TRAP_EXT_DIR=$(.venv/bin/python -m loadtests.provision.gil_trap)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from loadtests.core.errors import EnvironmentSetupError
from loadtests.core.paths import LAB_ROOT, cache_dir, setup_command
from loadtests.provision.envs import app_python
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.process_env import child_env, installer_env

MODULE = "gil_lab_trap"
SOURCE = LAB_ROOT / "scenarios" / "gil_trap_ext" / f"{MODULE}.c"
ROUTES_DIR = LAB_ROOT / "scenarios" / "gil_trap_routes"
#: Read by ``scenarios/gil_trap_routes/trap.py``: the directory holding the built module.
ENV_VAR = "LAB_TRAP_EXT_DIR"
COMPILE_TIMEOUT_S = 120.0
REMEDY = ("Install a C compiler and Python headers (Debian/Ubuntu: `apt-get install gcc python3-dev`; "
          "a lab-built 3.14t already ships its headers in its include directory), then retry.")

# Runs inside the target interpreter: what the build depends on.
_CONFIG_PROBE = r"""
import json, os, platform, sys, sysconfig
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "version": platform.python_version(),
    "free_threaded": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
    "INCLUDEPY": sysconfig.get_config_var("INCLUDEPY"),
    "EXT_SUFFIX": sysconfig.get_config_var("EXT_SUFFIX"),
}))
"""


class TrapBuildError(EnvironmentSetupError):
    """The ``gil_lab_trap`` extension could not be compiled (no compiler, no headers, or a compile error)."""


def interpreter_config(python: Path) -> dict[str, object]:
    """The build-relevant sysconfig of ``python``, read by running it (never this process's)."""
    try:
        proc = subprocess.run([str(python), "-I", "-c", _CONFIG_PROBE], capture_output=True, text=True,
                              timeout=60, env=child_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TrapBuildError(f"cannot run {python} to read its build configuration: {exc}") from exc
    if proc.returncode != 0:
        raise TrapBuildError(f"{python} failed to report its build configuration:\n{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_dir(config: Mapping[str, object], source: bytes) -> Path:
    """Where the build for this source and interpreter lives: a new source or interpreter, a new directory."""
    digest = hashlib.sha256(source)
    digest.update(json.dumps(dict(config), sort_keys=True).encode())
    return cache_dir() / "gil-trap" / digest.hexdigest()[:16]


def ensure_trap_extension(python: Path, compiler: str | None = None) -> Path:
    """Compile ``gil_lab_trap`` for ``python`` unless already built; return the directory holding the .so.

    ``compiler`` defaults to ``gcc`` on PATH. Raises :class:`TrapBuildError` with a
    remedy when there is no compiler, no headers, or the compile fails.
    """
    config = interpreter_config(Path(python))
    source = SOURCE.read_bytes()
    out_dir = build_dir(config, source)
    target = out_dir / f"{MODULE}{config['EXT_SUFFIX']}"
    if target.is_file():
        return out_dir
    include = Path(str(config["INCLUDEPY"]))
    if not (include / "Python.h").is_file():
        raise TrapBuildError(f"{python} has no C headers: {include}/Python.h is missing. {REMEDY}")
    cc = compiler or shutil.which("gcc")
    if not cc:
        raise TrapBuildError(f"no C compiler: gcc is not on PATH, so {MODULE} cannot be built. {REMEDY}")
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{MODULE}.{os.getpid()}.partial"
    args = [cc, "-shared", "-fPIC", "-O2", "-Wall", "-I", str(include), str(SOURCE), "-o", str(partial)]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, env=installer_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TrapBuildError(f"compiling {SOURCE.name} failed: {exc}. {REMEDY}") from exc
    if proc.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        output = (proc.stdout + proc.stderr).strip()[-3000:]
        raise TrapBuildError(f"compiling {SOURCE.name} failed (exit {proc.returncode}):\n$ {' '.join(args)}\n"
                             f"{output}\n{REMEDY}")
    (out_dir / "build.json").write_text(json.dumps({"command": args, "interpreter": config}, indent=2))
    os.replace(partial, target)  # atomic: a concurrent build or reader never sees half a file
    return out_dir


def prepare(interpreters: Mapping[str, Interpreter]) -> dict[str, str]:
    """Build the trap for the free-threaded interpreter; return the env vars its servers need.

    The runner calls this for presets with ``prepare = ["gil_trap"]`` and passes the
    result to every server of the run (harmless where the trap is not loaded).
    """
    if "ft" not in interpreters:
        raise TrapBuildError(f"the gil_trap preparation needs the free-threaded interpreter; run `{setup_command()}`.")
    return {ENV_VAR: str(ensure_trap_extension(Path(interpreters["ft"].path)))}


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtests.provision.gil_trap [PYTHON]``: build for PYTHON (default: the app-ft env) and print the dir."""
    args = sys.argv[1:] if argv is None else argv
    python = Path(args[0]) if args else app_python("app-ft")
    try:
        print(ensure_trap_extension(python))
    except EnvironmentSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
