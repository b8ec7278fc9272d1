"""The supervisor: one small process in front of each process group the lab starts.

The lab runs it by file path, ``python -I -S supervisor.py`` (standard library only,
so it starts in a few tens of milliseconds), with a pipe from the lab on its stdin
and a pipe back to the lab on its stdout. Its stderr is where the command's output
goes (the cell's log file). The protocol, one line per message:

    lab -> supervisor   {"args": [...], "cwd": "...", "env": {...}, "grace_s": 10.0}   (first line)
                        stop <grace seconds>                                          (optional)
    supervisor -> lab   pid <pid>          the command runs, as that pid
                        exit <status>      its exit status (negative: killed by that signal)
                        error <message>    it could not be started

It starts the command in a new session (its own process group), byte for byte as
given: same argv, same environment, same working directory, stdin from /dev/null.
Then it waits for whichever comes first:

- a ``stop`` line: SIGTERM the whole group, wait up to the grace period for the
  command, SIGKILL the group; the lab's ordinary teardown;
- end-of-file on stdin: the lab closed the pipe or died (SIGKILL included: the kernel
  closes a dead process's descriptors). The same sequence, with the grace capped at
  ``LAB_GONE_GRACE_S`` so that nothing the lab started outlives it by 10 seconds;
- the command exits by itself: report its status, then stop what is left of its group
  (a server's worker processes, say) the same way.

Why not the parent-death signal: it reaches direct children only, and fires when the
parent *thread* that forked the child exits, not the parent process. A pipe's
end-of-file is exact: it comes when the last holder of the write end is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

# When the lab is gone, a group gets at most this long between SIGTERM and SIGKILL.
LAB_GONE_GRACE_S = 5.0
# How often the group is checked while it shuts down after its leader has exited.
GROUP_POLL_S = 0.05
STOP = "stop"
PID, EXIT, ERROR = "pid", "exit", "error"


@dataclass(frozen=True)
class Spec:
    """What to run, exactly as the lab would have run it itself."""

    args: list[str]
    cwd: str
    env: dict[str, str]
    grace_s: float

    def to_line(self) -> bytes:
        # ensure_ascii keeps undecodable bytes (surrogate escapes) intact through JSON.
        return json.dumps({"args": self.args, "cwd": self.cwd, "env": self.env, "grace_s": self.grace_s}).encode() + b"\n"

    @classmethod
    def from_line(cls, line: str) -> Spec:
        data = json.loads(line)
        args, cwd, env, grace = data["args"], data["cwd"], data["env"], float(data["grace_s"])
        if not (isinstance(args, list) and args and all(isinstance(a, str) for a in args)):
            raise ValueError("args must be a non-empty list of strings")
        if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
            raise ValueError("env must map strings to strings")
        if not isinstance(cwd, str) or grace < 0:
            raise ValueError("cwd must be a string and grace_s at least 0")
        return cls(args, cwd, env, grace)


class Control:
    """The lab's pipe (stdin), read without blocking so it can sit in a selector."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.closed = False

    def read(self) -> list[str]:
        """Whatever complete lines one read brings; sets ``closed`` at end-of-file."""
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.closed = True
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace") for line in lines]

    def first_line(self) -> str | None:
        while not self.closed:
            lines = self.read()
            if lines:
                return lines[0]
        return None


def report(kind: str, value: object) -> None:
    # The lab may be gone (broken pipe): the supervisor's job goes on without it.
    with contextlib.suppress(OSError):
        os.write(sys.stdout.fileno(), f"{kind} {value}\n".encode())


def signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the group; False once no process is left in it."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def stop_group(child: subprocess.Popen[bytes], grace: float) -> int:
    """SIGTERM the group, wait up to ``grace`` for the command, SIGKILL the group: the lab's teardown."""
    signal_group(child.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=grace)
    signal_group(child.pid, signal.SIGKILL)  # worker processes may outlive their leader
    return child.wait()


def clear_group(pgid: int, grace: float) -> None:
    """After the leader exited by itself: SIGTERM the rest of its group, wait until it is empty or ``grace``, SIGKILL."""
    deadline = time.monotonic() + grace
    alive = signal_group(pgid, signal.SIGTERM)
    while alive and time.monotonic() < deadline:
        time.sleep(GROUP_POLL_S)
        alive = signal_group(pgid, 0)
    if alive:
        signal_group(pgid, signal.SIGKILL)


def stop_grace(line: str, default: float) -> float:
    """The grace period of a ``stop [seconds]`` line; the spec's when it names none or no valid one."""
    words = line.split()
    try:
        return max(0.0, float(words[1])) if len(words) > 1 else default
    except ValueError:
        return default


def exit_watch(child: subprocess.Popen[bytes]) -> int | None:
    """A descriptor that becomes readable when the child exits (Linux >= 5.3); None: poll instead."""
    try:
        return os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        return None


def supervise(spec: Spec, control: Control) -> int:
    """Run the command until it exits or the lab stops it (or is gone); return its exit status."""
    # Signals to the supervisor itself (a terminal hang-up, someone's kill) stop the group too.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, lambda *_: None)  # a handler, not SIG_IGN: the command must not inherit "ignored"
    try:
        child = subprocess.Popen(spec.args, cwd=spec.cwd, env=spec.env, stdin=subprocess.DEVNULL,
                                 stdout=sys.stderr.fileno(), stderr=subprocess.STDOUT, start_new_session=True)
    except (OSError, ValueError) as exc:
        report(ERROR, f"cannot start {spec.args[0]}: {exc}")
        return 127
    report(PID, child.pid)
    pidfd = exit_watch(child)
    selector = selectors.DefaultSelector()
    selector.register(control.fd, selectors.EVENT_READ, "control")
    selector.register(wake_read, selectors.EVENT_READ, "signal")
    if pidfd is not None:
        selector.register(pidfd, selectors.EVENT_READ, "exited")
    grace: float | None = None
    while grace is None:
        events = selector.select(timeout=None if pidfd is not None else GROUP_POLL_S)
        if child.poll() is not None:
            status = child.returncode
            report(EXIT, status)
            clear_group(child.pid, min(spec.grace_s, LAB_GONE_GRACE_S))
            return status
        for key, _ in events:
            if key.data == "control":
                stops = [stop_grace(line, spec.grace_s) for line in control.read() if line.startswith(STOP)]
                if stops:
                    grace = stops[0]
                elif control.closed:
                    grace = min(spec.grace_s, LAB_GONE_GRACE_S)
            elif key.data == "signal":
                grace = min(spec.grace_s, LAB_GONE_GRACE_S)
    status = stop_group(child, grace)
    report(EXIT, status)
    return status


def main() -> int:
    control = Control(sys.stdin.fileno())
    line = control.first_line()
    if line is None:
        return 0  # the lab closed the pipe before asking for anything
    try:
        spec = Spec.from_line(line)
    except (ValueError, KeyError, TypeError) as exc:
        report(ERROR, f"bad request from the lab: {exc}")
        return 2
    supervise(spec, control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
