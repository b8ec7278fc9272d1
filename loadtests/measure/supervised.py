"""The lab's side of the supervisor: start a command under it, watch it, stop it.

``supervised(...)`` is what ``running_server`` and ``running_locust`` call instead of
``subprocess.Popen``. The command runs exactly as given, in its own process group,
behind ``supervisor.py``; the returned ``Supervised`` speaks for the command itself
(its pid, its exit status), so the lab samples and judges the real server or Locust,
never the supervisor. If the lab dies, the supervisor sees its pipe close and takes
the whole group down: see supervisor.py.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from loadtests.core.errors import LaunchError
from loadtests.measure import supervisor
from loadtests.measure.supervisor import ERROR, EXIT, PID, Spec

SUPERVISOR_SCRIPT = Path(supervisor.__file__).resolve()
START_TIMEOUT_S = 30.0  # for the supervisor to come up and start the command
# Beyond the grace period: SIGKILL, reaping, and the supervisor's own exit.
SETTLE_S = supervisor.LAB_GONE_GRACE_S + 5.0


class Supervised:
    """A command running under its supervisor. ``pid`` and ``poll()`` are the command's own."""

    def __init__(self, process: subprocess.Popen[bytes], args: list[str]) -> None:
        self.process = process  # the supervisor
        self.args = args
        self.pid = 0
        self.returncode: int | None = None
        self._buffer = b""
        self._ended = False  # the supervisor's reports have ended (its stdout closed)

    def poll(self) -> int | None:
        """None while the command runs; its exit status (negative: killed by that signal) once it has ended."""
        self._read(timeout=0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._read(remaining)
        return self.returncode

    def stop(self, grace: float) -> int | None:
        """SIGTERM the command's group, wait up to ``grace``, SIGKILL it; return once the supervisor is gone."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):  # the supervisor may have finished already
                self.process.stdin.write(f"{supervisor.STOP} {grace}\n".encode())
                self.process.stdin.flush()
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=grace + SETTLE_S)
        except subprocess.TimeoutExpired:  # a supervisor that hangs is not trusted with the group any longer
            self._kill_unsupervised()
        while not self._ended:
            self._read(timeout=1.0)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.returncode

    def _read(self, timeout: float | None) -> None:
        """Take in what the supervisor reported, waiting up to ``timeout`` for something to arrive."""
        if self._ended or self.process.stdout is None:
            return
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return
        chunk = os.read(fd, 65536)
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            kind, _, value = line.decode(errors="replace").partition(" ")
            if kind == PID:
                self.pid = int(value)
            elif kind == EXIT:
                self.returncode = int(value)
            elif kind == ERROR:
                raise LaunchError(value)
        if not chunk:
            self._ended = True
            if self.returncode is None and self.pid:
                # The supervisor died before the command: nothing would stop that group now, and the lab
                # cannot see how it ends, so it ends here.
                self._kill_unsupervised()

    def _kill_unsupervised(self) -> None:
        if self.pid > 0:  # never 0: killpg(0) would be the lab's own group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait()
        if self.returncode is None:
            self.returncode = -signal.SIGKILL


def supervised(args: Sequence[str], cwd: str | Path, env: Mapping[str, str], output: IO[bytes] | int,
               grace: float, start_timeout: float = START_TIMEOUT_S) -> Supervised:
    """Start ``args`` under a supervisor, in its own process group; return once it runs.

    ``output`` receives the command's stdout and stderr (and the supervisor's own
    complaints, if any). ``grace`` is how long a stop waits between SIGTERM and SIGKILL;
    the same stop happens, with at most ``LAB_GONE_GRACE_S``, if the lab dies. Raises
    LaunchError when the command cannot be started.
    """
    spec = Spec(list(args), str(cwd), dict(env), grace)
    # The supervisor carries the command's environment, so whatever finds a run's processes by
    # their environment finds it too; -I -S keep PYTHONPATH, PYTHON_GIL and site-packages away from it.
    process = subprocess.Popen([sys.executable, "-I", "-S", str(SUPERVISOR_SCRIPT)], env=spec.env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=output, start_new_session=True)
    running = Supervised(process, spec.args)
    try:
        assert process.stdin is not None
        process.stdin.write(spec.to_line())
        process.stdin.flush()
        deadline = time.monotonic() + start_timeout
        while not running.pid and not running._ended and time.monotonic() < deadline:
            running._read(deadline - time.monotonic())
    except (LaunchError, OSError) as exc:
        running.stop(grace=0)
        raise LaunchError(f"{exc}. Check that the command exists and that `make setup` has completed.") from exc
    if not running.pid:
        running.stop(grace=0)
        raise LaunchError(f"the supervisor of `{' '.join(spec.args)}` did not start it within {start_timeout:.0f}s "
                          f"(status {process.returncode}); its output is in the command's log")
    return running
