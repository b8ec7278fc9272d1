"""Virtual environments: one control plane, one app environment per interpreter.

- ``.venv/`` — in a checkout, the control plane on the standard interpreter: the lab
  (editable), Locust (gevent has no free-threaded build), the report and the dev tools,
  from ``locks/dev.txt``. An installed lab has no such environment to sync: it runs in
  the one it was installed into, whose runtime pins are ``locks/control.txt``.
- ``.envs/app-gil`` and ``.envs/app-ft`` (``<cache>/envs/`` for an installed lab) — the
  app's dependencies on each interpreter, from ``locks/app-gil.txt`` and ``locks/app-ft.txt``.

Installs come from lock files under ``locks/`` (pinned, hashed requirement files made
by ``make lock``), so both machines and both interpreters get the same versions.
uv installs them when it is available; pip works too (``LAB_INSTALLER=pip``). Each
environment stores a stamp: the hash of its lock file, interpreter and helper files.
When nothing changed, a sync does nothing, so a second ``make setup`` takes seconds.

What the locks are made from: the control plane's lists in ``pyproject.toml`` (a
checkout only), the app environments' in ``locks/app-requirements.toml`` (which an
install carries, so it can read them at run time) and each server's requirements in its
declaration (``loadtests/core/servers/``).

Uses only the standard library: it runs before the control plane exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core import servers
from loadtests.core.errors import EnvironmentSetupError
from loadtests.core.paths import CHECKOUT, LAB_ROOT, control_venv, envs_dir, setup_command
from loadtests.core.progress import step
from loadtests.provision import env_lock, uv_tool
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.process_env import installer_env

LOCKS_DIR = LAB_ROOT / "locks"
#: The app environments' requirement lists and the packages 3.14t goes without (read at run time).
APP_REQUIREMENTS = LOCKS_DIR / "app-requirements.toml"
# The ASGI layer every server runs (gil_lab_layer.serve:app); its source is app/layer/.
LAYER_SOURCE = LAB_ROOT / "app" / "layer"
LAYER_PACKAGE = "gil_lab_layer"
# Runs at every interpreter start, so GIL re-enablement by a server's own imports is recorded.
LAYER_PTH = "import gil_lab_layer.gilwatch as w; w.install(site_hook=True)\n"
# What older set-ups installed before the layer existed; removed when the layer goes in.
LEGACY_FILES = ("gil_lab_gilwatch.py", "gil_lab_gilwatch.pth")
STAMP_NAME = "gil-lab-env.json"
#: Every lock file and the interpreter role it is resolved for.
LOCKS = {"control": "gil", "dev": "gil", "app-gil": "gil", "app-ft": "ft"}


@dataclass(frozen=True)
class EnvSpec:
    """One environment: its name, where it lives, the interpreter and the lock it is synced from."""

    name: str  # "control", "app-gil", "app-ft"
    path: Path
    interpreter: Interpreter
    lock: str  # a key of LOCKS: the checkout's control plane takes "dev", the runtime pins plus the dev tools

    @property
    def lock_file(self) -> Path:
        return LOCKS_DIR / f"{self.lock}.txt"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def is_app(self) -> bool:
        return self.name.startswith("app-")


def env_specs(interpreters: dict[str, Interpreter]) -> list[EnvSpec]:
    """The environments set-up syncs: the control plane only in a checkout (an install runs in its own)."""
    control = [EnvSpec("control", control_venv(), interpreters["gil"], "dev")] if CHECKOUT else []
    return [
        *control,
        EnvSpec("app-gil", envs_dir() / "app-gil", interpreters["gil"], "app-gil"),
        EnvSpec("app-ft", envs_dir() / "app-ft", interpreters["ft"], "app-ft"),
    ]


def app_python(name: str) -> Path:
    """The interpreter of an app environment by name ("app-gil" or "app-ft")."""
    return envs_dir() / name / "bin" / "python"


def app_requirements() -> dict[str, Any]:
    """``locks/app-requirements.toml``: the ``app`` and ``app-test`` lists and the ``gil-only`` table."""
    import tomllib  # the bootstrap needs Python >= 3.11

    return tomllib.loads(APP_REQUIREMENTS.read_text())


def app_environment_requirements() -> list[str]:
    """What every app environment installs: the ``app`` list, then each registered server's requirements."""
    served = [line for spec in servers.registered() for line in spec.requirements]
    return list(dict.fromkeys([*app_requirements()["app"], *served]))


def gil_only_packages() -> dict[str, str]:
    """Packages kept out of free-threaded environments, with the reason."""
    return {name: str(entry["reason"]) for name, entry in app_requirements().get("gil-only", {}).items()}


def load_pyproject() -> dict:
    """The checkout's pyproject.toml: the control plane's own requirements, for `make lock`."""
    import tomllib

    if CHECKOUT is None:
        raise EnvironmentSetupError("Lock files are made from a checkout of the lab (`make lock`); an installed lab "
                                    "uses the locks it was installed with.")
    return tomllib.loads((CHECKOUT / "pyproject.toml").read_text())


def _hash_files(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def wanted_stamp(spec: EnvSpec) -> str:
    """What the environment's contents depend on. A change means re-sync."""
    if not spec.lock_file.is_file():
        raise EnvironmentSetupError(
            f"Lock file {spec.lock_file} is missing. Run `make lock` in a checkout (needs network access to PyPI) "
            "and commit it."
        )
    parts = [spec.lock_file.read_bytes(), spec.interpreter.path.encode(), spec.interpreter.version.encode()]
    if spec.is_app:
        parts.append(layer_digest().encode())
    elif CHECKOUT is not None:
        parts.append((CHECKOUT / "pyproject.toml").read_bytes())  # the editable install of the lab itself
    return _hash_files(*parts)


def read_stamp(spec: EnvSpec) -> dict | None:
    path = spec.path / STAMP_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def installer() -> list[str] | None:
    """The uv command to use, or None to use pip. ``LAB_INSTALLER`` = auto | uv | pip."""
    choice = os.environ.get("LAB_INSTALLER", "auto")
    if choice not in ("auto", "uv", "pip"):
        raise EnvironmentSetupError(f"LAB_INSTALLER must be auto, uv or pip, not {choice!r}.")
    if choice == "pip":
        return None
    for candidate in (control_venv() / "bin" / "uv", uv_tool.find_uv()):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    if choice == "uv":
        raise EnvironmentSetupError("LAB_INSTALLER=uv but uv was not found. Install uv, or use LAB_INSTALLER=pip.")
    return None


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=env or installer_env())
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise EnvironmentSetupError(f"{what} failed (exit {proc.returncode}):\n$ {' '.join(args)}\n{output[-3000:]}")
    return proc.stdout


def _create_venv(spec: EnvSpec) -> None:
    if spec.path.exists():
        shutil.rmtree(spec.path)
    _run([spec.interpreter.path, "-m", "venv", str(spec.path)], f"creating {spec.path}")


def _install_lock(spec: EnvSpec) -> None:
    uv = installer()
    if uv:
        _run([*uv, "pip", "sync", "--python", str(spec.python), "--require-hashes", str(spec.lock_file)],
             f"installing {spec.lock_file.name} into {spec.name} with uv")
    else:
        _run([str(spec.python), "-m", "pip", "install", "--disable-pip-version-check", "--require-hashes",
              "--no-deps", "-r", str(spec.lock_file)], f"installing {spec.lock_file.name} into {spec.name} with pip")


def _install_project(spec: EnvSpec, checkout: Path | None = CHECKOUT) -> None:
    """The checkout's control plane gets the lab itself, editable, so `gil-lab` runs the working tree.

    Built with the setuptools the lock installed (no build isolation): an isolated build
    would fetch whatever setuptools the index serves that day, unpinned and unhashed.
    """
    assert checkout is not None, "only a checkout has a control environment to sync"
    uv = installer()
    if uv:
        _run([*uv, "pip", "install", "--python", str(spec.python), "--no-deps", "--no-build-isolation", "-e",
              str(checkout)], "installing gil-lab (editable) with uv")
    else:
        _run([str(spec.python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
              "--no-build-isolation", "-e", str(checkout)], "installing gil-lab (editable) with pip")


def site_packages(python: Path) -> Path:
    out = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], "locating site-packages")
    return Path(out.strip())


def layer_files() -> list[Path]:
    """The layer's source files, in a stable order."""
    return sorted(LAYER_SOURCE.glob("*.py"))


def layer_digest() -> str:
    """sha256 over the layer's file names and contents: a change means re-install."""
    return _hash_files(*(part for path in layer_files() for part in (path.name.encode(), path.read_bytes())))


def install_layer(python: Path) -> None:
    """Install app/layer/ as the package ``gil_lab_layer``, with its start-up hook.

    Servers import extensions (httptools, uvloop) before they import the app, so a
    GIL watch installed by the app would miss them: the ``.pth`` file runs at start-up.
    A copy, not a link, so the environment does not change under a running server.
    """
    target = site_packages(python)
    package = target / LAYER_PACKAGE
    if package.exists():
        shutil.rmtree(package)
    package.mkdir()
    for path in layer_files():
        shutil.copy2(path, package / path.name)
    (target / f"{LAYER_PACKAGE}.pth").write_text(LAYER_PTH)
    for name in LEGACY_FILES:
        (target / name).unlink(missing_ok=True)


def installed_packages(python: Path) -> dict[str, str]:
    """Installed distributions and versions, read by running the environment's Python."""
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions() if d.metadata['Name']}))"
    )
    # -I: only the environment's own site-packages, not a distribution in the current directory.
    return json.loads(_run([str(python), "-I", "-c", code], f"listing packages of {python}"))


def sync(spec: EnvSpec, force: bool = False) -> dict[str, Any]:
    """Make ``spec``'s environment match its lock file; do nothing when it already does.

    A change is made under the environment's exclusive lock, so it waits for a lab that
    runs from it, and for another set-up, which may have brought it up to date meanwhile.
    """
    wanted = wanted_stamp(spec)
    current = read_stamp(spec)
    if not force and current and current.get("stamp") == wanted and spec.python.exists():
        print(f"    {spec.name}: up to date ({spec.path})", file=sys.stderr)
        return current
    with env_lock.building(spec.path):
        current = read_stamp(spec)
        if not force and current and current.get("stamp") == wanted and spec.python.exists():
            print(f"    {spec.name}: up to date ({spec.path}), synced by another set-up", file=sys.stderr)
            return current
        return _sync_locked(spec, wanted, current)


def _sync_locked(spec: EnvSpec, wanted: str, current: dict[str, Any] | None) -> dict[str, Any]:
    with step(f"sync environment {spec.name} ({spec.interpreter.label}) from {spec.lock_file.name}"):
        recreate = not spec.python.exists() or not current or current.get("interpreter") != spec.interpreter.path
        if recreate:
            _create_venv(spec)
        _install_lock(spec)
        if spec.is_app:
            install_layer(spec.python)
        else:
            _install_project(spec)
        stamp: dict[str, Any] = {
            "name": spec.name,
            "stamp": wanted,
            "interpreter": spec.interpreter.path,
            "interpreter_label": spec.interpreter.label,
            "lock_file": str(spec.lock_file.relative_to(LAB_ROOT)),
            "packages": installed_packages(spec.python),
            "unsupported": gil_only_packages() if spec.interpreter.free_threaded else {},
        }
        (spec.path / STAMP_NAME).write_text(json.dumps(stamp, indent=2, sort_keys=True))
    unsupported: dict[str, str] = stamp["unsupported"]
    if unsupported:
        for name, reason in unsupported.items():
            print(f"    note: {name} is not installed in {spec.name}: {reason}", file=sys.stderr)
    return stamp


def requirements(lock: str) -> list[str]:
    """The top-level requirements of one lock file (a key of LOCKS).

    ``control`` is what runs the lab (``[project].dependencies``); ``dev`` adds the test and
    lint tools; the app locks get only the app's lists, never the control plane's
    dependencies (Locust has no business in the server's process).
    """
    if lock in ("control", "dev"):
        project = load_pyproject()["project"]
        return list(project["dependencies"]) + (list(project["optional-dependencies"]["dev"]) if lock == "dev" else [])
    lists = app_requirements()
    gil_only = [str(entry["requirement"]) for entry in lists.get("gil-only", {}).values()] if lock == "app-gil" else []
    return [*app_environment_requirements(), *gil_only, *lists["app-test"]]


def lock(interpreters: dict[str, Interpreter], uv: list[str] | None = None) -> list[Path]:
    """Regenerate the lock files by resolving against each real interpreter (needs PyPI).

    uv keeps the versions already in a lock file when they still satisfy its requirements,
    so adding a requirement does not move every other pin.
    """
    uv = uv or installer()
    if not uv:
        raise EnvironmentSetupError(f"`make lock` needs uv: run `{setup_command()}` first (it installs uv), "
                                    "or install uv.")
    LOCKS_DIR.mkdir(exist_ok=True)
    written = []
    for name, role in LOCKS.items():
        source, target = LOCKS_DIR / f"{name}.in", LOCKS_DIR / f"{name}.txt"
        source.write_text("# generated by `make lock` from pyproject.toml, locks/app-requirements.toml and the server "
                          "declarations (loadtests/core/servers/); do not edit\n"
                          + "\n".join(requirements(name)) + "\n")
        args = [*uv, "pip", "compile", str(source), "--generate-hashes", "--python", interpreters[role].path,
                "--quiet", "--no-header", "-o", str(target)]
        with step(f"lock {name} for {interpreters[role].label}"):
            _run(args, f"locking {name}")
        written.append(target)
    return written
