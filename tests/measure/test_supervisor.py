"""supervisor.py and supervised.py with real processes: the pid report, stops, children that resist, a dying lab."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from loadtests.core.errors import LaunchError
from loadtests.measure.supervised import SUPERVISOR_SCRIPT, Supervised, supervised
from tests.conftest import PROJECT_ROOT, wait_for

pytestmark = pytest.mark.slow

# A command that starts a grandchild in its own group, says both pids, then waits.
WITH_GRANDCHILD = """
import os, subprocess, sys, time
grandchild = subprocess.Popen(["sleep", "300"])
print("pids", os.getpid(), grandchild.pid, flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 300)
"""


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def said(log: Path, word: str) -> list[str]:
    """The words after ``word`` on the first line of the log that starts with it."""
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if line.startswith(word + " "):
            return line.split()[1:]
    return []


def pids_in(log: Path) -> tuple[int, int]:
    words = wait_for(lambda: said(log, "pids"), "the command's pids")
    assert isinstance(words, list)
    return int(words[0]), int(words[1])


@contextmanager
def started(args: list[str], log: Path, grace: float = 5.0, env: dict[str, str] | None = None,
            cwd: Path = PROJECT_ROOT) -> Iterator[Supervised]:
    with log.open("ab") as output:
        process = supervised(args, cwd=cwd, env=env if env is not None else dict(os.environ), output=output, grace=grace)
    try:
        yield process
    finally:
        process.stop(grace=1.0)


def test_the_pid_reported_is_the_commands_own_in_its_own_session(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started(python(WITH_GRANDCHILD), log) as process:
        child, grandchild = pids_in(log)
        assert process.pid == child
        command = psutil.Process(child)
        assert command.cmdline() == python(WITH_GRANDCHILD)
        assert command.ppid() == process.process.pid  # the supervisor, not the lab, is its parent
        assert os.getpgid(child) == os.getsid(child) == child  # a new session, so a group of its own
        assert os.getpgid(grandchild) == child
        assert os.getpgid(process.process.pid) != os.getpgid(0)  # Ctrl-C to the lab's group does not reach it
        assert process.poll() is None


def test_argv_environment_and_working_directory_reach_the_command_unchanged(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "nowhere"), "PYTHON_GIL": "1",
           "LAB_ODD": os.fsdecode(b"caf\xe9 \xff"), "LAB_EMPTY": ""}
    args = python("import time; time.sleep(300)", "two words", "")
    with started(args, tmp_path / "out.log", env=env, cwd=tmp_path) as process:
        proc = Path(f"/proc/{process.pid}")
        # The pid is reported at fork: on a busy machine the exec may still be under way (an empty cmdline).
        wait_for(lambda: (proc / "cmdline").read_bytes(), "the command's exec")
        # What the kernel was given at exec, read from outside: no interpreter of ours in between.
        assert (proc / "cmdline").read_bytes() == b"".join(os.fsencode(a) + b"\0" for a in args)
        assert (proc / "environ").read_bytes() == b"".join(os.fsencode(f"{k}={v}") + b"\0" for k, v in env.items())
        assert os.readlink(proc / "cwd") == str(tmp_path)
        assert os.readlink(proc / "fd" / "0") == "/dev/null"


def test_a_stop_sends_sigterm_then_sigkill_to_a_command_that_ignores_it(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    stubborn = ("import signal, sys, time\n"
                "signal.signal(signal.SIGTERM, lambda *_: print('TERM received, staying', flush=True))\n"
                "print('ready', flush=True)\n"
                "while True: time.sleep(0.1)\n")
    with started(python(stubborn), log) as process:
        wait_for(lambda: "ready" in log.read_text(), "the command to set its handler")
        pid = process.pid
        assert process.stop(grace=1.0) == -signal.SIGKILL
        assert "TERM received, staying" in log.read_text()
        assert not alive(pid) and process.process.poll() is not None


def test_a_stop_reaches_the_grandchildren_in_the_group(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started(python(WITH_GRANDCHILD), log) as process:
        child, grandchild = pids_in(log)
        assert process.stop(grace=5.0) == -signal.SIGTERM
        assert not alive(child) and not alive(grandchild)


def test_a_command_that_exits_by_itself_reports_its_status_and_its_group_is_cleared(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    code = WITH_GRANDCHILD + "sys.exit(7)\n"
    with started(python(code, "0.5"), log) as process:
        _, grandchild = pids_in(log)
        assert process.wait(timeout=30) == 7
        assert process.poll() == 7
        wait_for(lambda: not alive(grandchild), "the grandchild to be stopped after its parent exited")
        wait_for(lambda: process.process.poll() is not None, "the supervisor to finish")


def test_a_crash_is_reported_with_the_signal(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started(python(WITH_GRANDCHILD), log) as process:
        child, _ = pids_in(log)
        os.kill(child, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL


def test_a_signal_to_the_supervisor_stops_the_group(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started(python(WITH_GRANDCHILD), log) as process:
        child, grandchild = pids_in(log)
        process.process.send_signal(signal.SIGHUP)  # a closed terminal, say
        assert process.wait(timeout=30) == -signal.SIGTERM
        wait_for(lambda: not alive(grandchild), "the grandchild to be stopped")


FAKE_LAB = """
import os, sys, time
from loadtests.measure.supervised import supervised
with open(sys.argv[1], "ab") as log:
    command = supervised([sys.executable, "-c", sys.argv[2]], cwd=".", env=dict(os.environ), output=log, grace=30.0)
print("supervisor", command.process.pid, flush=True)
time.sleep(300)
"""


def test_when_the_lab_is_killed_the_supervisor_stops_the_group(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    stubborn = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + WITH_GRANDCHILD
    lab = subprocess.Popen(python(FAKE_LAB, str(log), stubborn), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert lab.stdout is not None
        supervisor = int(lab.stdout.readline().split()[1])
        child, grandchild = pids_in(log)
        lab.send_signal(signal.SIGKILL)
        lab.wait()
        # The command ignores SIGTERM, and the lab asked for 30 s of grace: with the lab gone the
        # supervisor caps it, so the SIGKILL comes well inside the lab's 10-second bound.
        wait_for(lambda: not any(map(alive, (supervisor, child, grandchild))), "the whole group to be gone", timeout=10)
    finally:
        lab.kill()
        lab.wait()


def test_a_command_that_cannot_start_is_a_launch_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match=r"cannot start /no/such/server: .*No such file"), \
            (tmp_path / "out.log").open("ab") as output:
        supervised(["/no/such/server", "--port", "1"], cwd=tmp_path, env={}, output=output, grace=1.0)


def test_the_supervisor_refuses_a_malformed_request() -> None:
    result = subprocess.run([sys.executable, "-I", "-S", str(SUPERVISOR_SCRIPT)], input=b'{"args": []}\n',
                            capture_output=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout.startswith(b"error bad request from the lab:")


def test_when_the_supervisor_itself_is_killed_the_lab_stops_the_group(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started(python(WITH_GRANDCHILD), log) as process:
        child, grandchild = pids_in(log)
        process.process.kill()
        # Its reports end without the command's status: nothing would stop that group, so the lab does.
        assert process.wait(timeout=30) == -signal.SIGKILL
        wait_for(lambda: not alive(child) and not alive(grandchild), "the unsupervised group to be killed")
