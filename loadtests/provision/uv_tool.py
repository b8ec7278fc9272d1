"""uv for the lab's own use: found on the machine, or installed from PyPI into the lab cache.

``uv python install`` is one of the ways the lab gets interpreters. When no ``uv`` is on
``PATH``, the lab makes a virtual environment of the Python running the set-up under
``<lab cache>/tools/uv`` and has its pip install uv, at the version and hashes of
``locks/control.txt``. The next set-up reuses it.

Network steps have bounded timeouts (pip ``--timeout``/``--retries``, ``UV_HTTP_TIMEOUT``,
``UV_HTTP_RETRIES`` unless the user set them, and a limit on every subprocess). Index and
proxy settings (``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, pip.conf, ``UV_INDEX_URL``,
``UV_DEFAULT_INDEX``, ``HTTP(S)_PROXY``, ``NO_PROXY``) pass through unchanged.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from loadtests.core.errors import UvError
from loadtests.core.paths import LAB_ROOT, cache_dir
from loadtests.core.progress import step
from loadtests.provision.process_env import installer_env

CONTROL_LOCK = LAB_ROOT / "locks" / "control.txt"
READY_MARKER = "gil-lab-tool.json"
PIP_TIMEOUT_S = 10  # per connection attempt
PIP_RETRIES = 1
INSTALL_LIMIT_S = 300.0  # a real download of uv (about 18 MB) on a slow link
UV_HTTP_TIMEOUT_S = "10"
UV_HTTP_RETRIES = "1"
PYTHON_INSTALL_LIMIT_S = 600.0  # two interpreters of about 30 MB each
FIND_LIMIT_S = 30.0


def tool_dir() -> Path:
    return cache_dir() / "tools" / "uv"


def tool_uv() -> Path:
    return tool_dir() / "bin" / "uv"


def find_uv() -> Path | None:
    """uv on PATH, else the lab's own copy if a previous set-up installed it."""
    on_path = shutil.which("uv")
    if on_path:
        return Path(on_path)
    if (tool_dir() / READY_MARKER).is_file() and tool_uv().is_file():
        return tool_uv()
    return None


def pinned_requirement(lock_file: Path = CONTROL_LOCK) -> str:
    """uv's entry in the control lock (``uv==X --hash=...``), or plain ``uv`` if the lock has none."""
    text = lock_file.read_text() if lock_file.is_file() else ""
    match = re.search(r"^uv==\S+(?:[ \t]*\\\n[ \t]+--hash=\S+)+", text, re.M)
    return match.group(0).replace("\\\n", " ") if match else "uv"


def ensure_uv(python: str = sys.executable, pip_timeout: int = PIP_TIMEOUT_S) -> Path:
    """A uv to run: the machine's, or the lab's own, installed now if needed."""
    found = find_uv()
    if found:
        return found
    target = tool_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".uv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent set-up installs it once
        found = find_uv()
        if found:
            return found
        with step(f"install uv from PyPI into {target}"):
            _install(python, target, pip_timeout)
    return tool_uv()


def _install(python: str, target: Path, pip_timeout: int) -> None:
    shutil.rmtree(target, ignore_errors=True)  # an earlier attempt that did not finish
    try:
        _run([python, "-m", "venv", str(target)], "creating the virtual environment for uv", 120.0)
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp) / "uv.txt"
            requirement = pinned_requirement()
            requirements.write_text(requirement + "\n")
            hashes = ["--require-hashes"] if "--hash=" in requirement else []
            _run([str(target / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                  "--timeout", str(pip_timeout), "--retries", str(PIP_RETRIES), *hashes, "-r", str(requirements)],
                 "pip install uv", INSTALL_LIMIT_S)
        if not tool_uv().is_file():
            raise UvError(f"pip installed uv, but {tool_uv()} does not exist.")
        (target / READY_MARKER).write_text('{"installed_by": "gil-lab"}\n')
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _run(args: list[str], what: str, limit: float, env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=limit, env=env or installer_env())
    except subprocess.TimeoutExpired as exc:
        raise UvError(f"{what} did not finish within {limit:.0f} s.") from exc
    except OSError as exc:
        raise UvError(f"{what} could not start: {exc}") from exc
    if proc.returncode != 0:
        raise UvError(f"{what} failed (exit {proc.returncode}): {failure_reason(proc.stdout + proc.stderr)}")
    return proc.stdout


def failure_reason(output: str) -> str:
    """The gist of a pip or uv failure: its last error line and the deepest cause behind it."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if not lines:
        return "no output"
    errors = [line for line in lines if line.lower().startswith("error:")]
    reason = errors[-1] if errors else lines[-1]
    if lines[-1] != reason and lines[-1].lower().startswith(("cause:", "caused by:")):
        reason += f" ({lines[-1]})"  # uv: the network error at the bottom of the chain
    retry = next((line for line in lines if "after connection broken by" in line), None)
    if retry:  # pip: the network error is in its retry warning
        reason += f" (network: {retry.split('after connection broken by', 1)[1].strip()[:240]})"
    return reason


def uv_env() -> dict[str, str]:
    """The caller's environment, with short HTTP timeouts unless the user chose their own."""
    env = installer_env()
    env.setdefault("UV_HTTP_TIMEOUT", UV_HTTP_TIMEOUT_S)
    env.setdefault("UV_HTTP_RETRIES", UV_HTTP_RETRIES)
    return env


def python_install(uv: Path, requests: list[str]) -> None:
    """``uv python install 3.14 3.14t``: raise ``UvError`` with uv's own reason when it fails."""
    _run([str(uv), "python", "install", *requests], f"uv python install {' '.join(requests)}",
         PYTHON_INSTALL_LIMIT_S, env=uv_env())


def python_find(uv: Path, request: str) -> Path | None:
    """The interpreter uv knows for ``request`` (``3.14t``), without downloading anything.

    ``--system`` keeps virtual environments out: without it, uv offers the lab's own
    ``.venv/bin/python`` from the working directory, which set-up would then rebuild from itself.
    """
    try:
        out = _run([str(uv), "python", "find", "--no-project", "--system", request], f"uv python find {request}",
                   FIND_LIMIT_S, env=uv_env())
    except UvError:
        return None
    lines = out.strip().splitlines()
    return Path(lines[-1]) if lines else None
