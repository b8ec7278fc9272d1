"""``gil-lab worker``: a Locust worker, with the lab's recorder, for a lab master on another machine.

A lab run starts one Locust session (one master) per scenario, and Locust's master
tells its workers to quit when its session ends. A Locust worker never joins another
master on its own, so this command runs one Locust worker per session, for as long as
masters keep coming:

1. wait until the master's port answers (a TCP connect);
2. challenge it (``handshake.challenge_master``): what answers must prove it knows the
   run's token, bound to this worker's nonce and to the sha256 of every file it ships.
   A process that cannot (a port squatter, a spoofed address, a plain Locust master, the
   master of another run) is refused, named, and told so; nothing it sent is written or
   imported, and the worker waits for the real master;
3. write the verified files (the lab's recorder, then the scenario's locustfile) into a
   private temporary directory, and run ``locust -f <those files> --worker``: Locust's
   own ``-f -`` would import whatever the port sends, before any of the lab's code runs;
4. when that worker exits, start again from 1 for the next session.

The token stays in this process: the Locust worker gets a key file (private, deleted
once read) with its session's worker key and the master's one-time nonce, so its hello
proves the token without holding it, and a captured hello cannot be used again.

It stops by itself once no master has been heard of for ``master_timeout_s``
(default 60 s, Locust's own ``MASTER_HEARTBEAT_TIMEOUT``): no heartbeat while
connected (the recorder gives Locust that timeout too), or no verified master on the
port between sessions. A worker the master refused (token, Locust version, lab version
or scenario files) stops at once with the master's reason: restarting cannot fix that.

The Locust worker runs behind the lab's supervisor, so it ends with this command.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests import __version__ as LAB_VERSION
from loadtests.core.errors import ConfigError, MasterUnverified, WorkerRefused
from loadtests.core.untrusted import printable
from loadtests.measure.handshake import KEYS_ENV, Ticket, challenge_master, tell_unverified, write_key_file
from loadtests.measure.load_session import RECORDER_FILES, locust_executable
from loadtests.measure.master import DEFAULT_MASTER_PORT, LAB_VERSION_ENV, TOKEN_ENV
from loadtests.measure.supervised import supervised
from loadtests.provision.process_env import child_env

DEFAULT_MASTER_TIMEOUT_S = 60.0
STATUS_ENV = "LAB_WORKER_STATUS"  # scenarios/lab_workers.py writes admitted / refused / last heartbeat here
MASTER_TIMEOUT_ENV = "LAB_MASTER_TIMEOUT"
REFUSED_EXIT_CODE = 78  # lab_workers.REFUSED_EXIT_CODE
PROBE_INTERVAL_S = 0.5
SETTLE_S = 2.0  # after a session: the old master may still be shutting down on the port
MAX_FAILED_STARTS = 5  # Locust workers in a row that ended without being admitted
Say = Callable[[str], None]


def parse_master(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` -> (host, port), port 5557 by default."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        host, port = text.strip(), str(DEFAULT_MASTER_PORT)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--master takes HOST or HOST:PORT (port 1-65535), not {text!r}")
    return host, int(port)


@dataclass(frozen=True)
class WorkerSettings:
    master_host: str
    master_port: int = DEFAULT_MASTER_PORT
    master_timeout_s: float = DEFAULT_MASTER_TIMEOUT_S
    locustfiles: tuple[Path, ...] = ()  # empty: run what the master ships (-f -)
    sessions: int | None = None  # stop after this many sessions; None: until no master comes

    def files(self) -> list[Path]:
        """This machine's files instead of the master's (the lab's recorder first, as the master loads it)."""
        given = [f.resolve() for f in self.locustfiles]
        return [*(f for f in RECORDER_FILES if f.resolve() not in given and f.name not in {g.name for g in given}),
                *given]

    def command(self, shipped: list[Path]) -> list[str]:
        """This machine's files when given, else the master's verified ones (never ``-f -``)."""
        files = ",".join(str(f) for f in (self.files() if self.locustfiles else shipped))
        return [locust_executable(), "-f", files, "--worker", "--master-host", self.master_host,
                "--master-port", str(self.master_port), "--loglevel", "INFO"]


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_master(host: str, port: int, until: float) -> bool:
    """Until the master's port accepts a connection (True) or ``until`` (time.monotonic()) has passed."""
    while True:
        if port_open(host, port):
            return True
        if time.monotonic() >= until:
            return False
        time.sleep(PROBE_INTERVAL_S)


def read_status(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_worker(settings: WorkerSettings, say: Say) -> int:
    """Serve masters until none comes for the timeout; the number of sessions served. Raises WorkerRefused."""
    token = _token()
    where = f"{settings.master_host}:{settings.master_port}"
    last_seen = time.monotonic()  # wall-clock differences only: monotonic
    served = failed = 0
    distrusted: str | None = None  # why the last process on the master's port was not believed
    while settings.sessions is None or served < settings.sessions:
        up = wait_for_master(settings.master_host, settings.master_port, last_seen + settings.master_timeout_s)
        if not up or (distrusted and time.monotonic() > last_seen + settings.master_timeout_s):
            if distrusted:
                raise WorkerRefused(f"no verified master at {where} for {settings.master_timeout_s:.0f}s; the last "
                                    f"process there was refused: {distrusted}")
            say(f"no master at {where} for {settings.master_timeout_s:.0f}s: stopping after {served} session(s)")
            return served
        try:
            ticket = challenge_master(settings.master_host, settings.master_port, token)
        except MasterUnverified as exc:
            distrusted = str(exc)
            say(f"refused the process at {where}: {exc}")
            with contextlib.suppress(Exception):  # a courtesy to a real master with another token: it says so
                tell_unverified(settings.master_host, settings.master_port, "this worker could not verify it")
            time.sleep(SETTLE_S)
            continue
        distrusted = None
        status, code = _one_session(settings, ticket, say)
        if status.get("refused"):
            raise WorkerRefused(f"the master at {where} refused this worker: {printable(status['refused'], limit=2000)}")
        if status.get("admitted"):
            served, failed = served + 1, 0
            heard = status.get("last_heartbeat")
            # the master was last heard of then: a master gone for good has used up the timeout already
            last_seen = time.monotonic() - max(0.0, time.time() - float(heard)) if heard else time.monotonic()
            say(f"session {served} ended (Locust exit status {code}); waiting for the next master at {where}")
        else:
            failed += 1
            if failed >= MAX_FAILED_STARTS:
                raise WorkerRefused(f"{failed} Locust workers in a row ended without being admitted by {where} "
                                    f"(last exit status {code}); see the output above")
        time.sleep(SETTLE_S)
    return served


def _token() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set: export the token the lab printed when the run started "
                          "(or the one the run was given); a master refuses workers without it")
    return token


def _one_session(settings: WorkerSettings, ticket: Ticket, say: Say) -> tuple[dict[str, Any], int | None]:
    """One Locust worker, from start to exit, on the verified master's files; its recorder's report, its exit."""
    with tempfile.TemporaryDirectory(prefix="gil-lab-worker-") as scratch:  # mode 0700: this user's only
        directory = Path(scratch)
        shipped = directory / "files"
        shipped.mkdir()
        status_path = directory / "status.json"
        keys = write_key_file(directory / "session-keys.json", ticket.for_worker())
        env = child_env({"TMPDIR": str(shipped), KEYS_ENV: str(keys), LAB_VERSION_ENV: LAB_VERSION,
                         MASTER_TIMEOUT_ENV: f"{settings.master_timeout_s:g}", STATUS_ENV: str(status_path),
                         "PYTHONUNBUFFERED": "1"})
        say(f"starting a Locust worker for {settings.master_host}:{settings.master_port} "
            f"(session {ticket.session[:8]}, {len(ticket.files)} verified files)")
        command = settings.command(ticket.write_files(shipped))
        process = supervised(command, cwd=directory, env=env, output=sys.stdout.buffer, grace=5.0)
        try:
            code = process.wait()
        finally:
            process.stop(5.0)
        return read_status(status_path), code
