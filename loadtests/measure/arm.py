"""An arm of a comparison: one configuration and the warm server that stands for it.

A window needs only what this module names: the server's address, its process (to
sample), whether it still runs, and its ``/lab/runtime``. Servers the lab starts and
apps it only reaches (``--app-url``) both fit, and so does a fake in a unit test.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from loadtests.measure.fault_files import FaultWatch
from loadtests.results.records import Cell, CellConfig, Outcome, RuntimeSnapshot

POLL_S = 0.2  # how often a wait looks at the server and the load generator


class Process(Protocol):
    """Something that runs until it exits: a server, a load session."""

    def exit_code(self) -> int | None: ...


class WindowServer(Process, Protocol):
    """A server a window can load, sample and ask about its runtime."""

    @property
    def base_url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...  # None: an app the lab did not start (it cannot be sampled)

    @property
    def faults(self) -> FaultWatch | None: ...  # None: no fault files to read (an app the lab did not start)

    def fetch_runtime(self, timeout: float = 5.0) -> RuntimeSnapshot: ...

    def fetch_in_flight(self, timeout: float = 2.0) -> int | None: ...  # None: the app cannot say


@dataclass
class Arm:
    """One configuration of a comparison and the server standing for it."""

    config: CellConfig
    server: WindowServer | None  # None: it could not start or cannot stand for the configuration (see ``skip``)
    skip: Cell | None = None  # the record that says why
    tree: str = ""  # its name in the sampler
    log_path: Path | None = None  # the server's output; None for an app the lab did not start
    python: Path | None = None  # the interpreter serving the app; None for an app the lab did not start
    instance: int = 0  # which fresh start of the configuration's server this is, within its comparison
    hash_seed: int | None = None  # PYTHONHASHSEED of that start

    @property
    def external(self) -> bool:
        """An app the lab reaches but did not start: no log, no sampling."""
        return self.server is not None and self.server.pid is None


def server_key(config: CellConfig) -> CellConfig:
    """What decides a server: a configuration without its load (users) or its preset group."""
    return replace(config, users=1, group="")


class Aborted(Exception):
    """A window could not finish: the server or Locust died under it (the reason is the message)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome


def wait_watching(seconds: float, server: Process, session: Process) -> None:
    """Wait, watching the server and the load generator: raise Aborted if either dies."""
    deadline = time.monotonic() + seconds
    while True:
        code = server.exit_code()
        if code is not None:
            raise Aborted("crashed", f"server crashed during the window (exit status {code})")
        code = session.exit_code()
        if code is not None:
            raise Aborted("client-error", f"load generator exited with status {code} during the window")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(POLL_S, left))
