"""What a server is, as far as the lab needs to know: one declaration per server.

Each module of :mod:`loadtests.core.servers` builds one :class:`ServerSpec`. Planning,
records, set-up and the report read these facts; only ``measure`` starts a server,
with the command line the declaration gives for a
:class:`~loadtests.core.server_launch.Launch`. Nothing here imports a server: the
declarations are data and small functions over the standard library, so every stage
can read them, the bare-Python set-up included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from loadtests.core.distributions import normalise
from loadtests.core.flavour import Flavour
from loadtests.core.server_launch import Launch

#: How ``--workers N`` is spread: N processes, or N threads with an event loop each in one process.
WorkerModel = Literal["processes", "threads"]
WORKER_MODELS: tuple[WorkerModel, ...] = ("processes", "threads")
_NAME = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class GilRefusal:
    """The server exits rather than run a free-threaded build whose GIL is on.

    The lab starts it anyway and recognises the refusal by ``log_line`` in its output,
    because an import can turn the GIL on (not only ``PYTHON_GIL=1``) and only the start
    shows it; the cell is then recorded as refused, with the server's own message.
    """

    log_line: str  # what the server prints when it refuses
    reason: str  # the sentence the lab and its report give


@dataclass(frozen=True)
class ServerSpec:
    """One server: its name, how it starts, how it spreads workers, what it refuses, what it needs."""

    name: str  # what --servers, presets, run.json and reports call it
    description: str  # one line for --help and the docs
    distribution: str  # its PyPI name: run.json records this distribution's version in the app environment
    requirements: tuple[str, ...]  # what the app environments install for it (`make lock` resolves them)
    workers_with_gil: WorkerModel  # --workers N on the standard build
    workers_free_threaded: WorkerModel  # --workers N on the free-threaded build
    command: Callable[[Launch], list[str]]  # the exact command line a user would type
    http_parser: str | None = None  # None: --http chooses its parser; else the one it always uses
    gil_refusal: GilRefusal | None = None  # set when it refuses a free-threaded build with the GIL on

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"server name {self.name!r}: lower-case letters, digits and '-', starting with a letter")
        if {self.workers_with_gil, self.workers_free_threaded} - set(WORKER_MODELS):
            raise ValueError(f"server {self.name}: worker models are {' or '.join(WORKER_MODELS)}")
        if not self.requirements:
            raise ValueError(f"server {self.name}: requirements must name at least its own distribution")

    def worker_model(self, flavour: Flavour) -> WorkerModel:
        """What ``--workers N`` means on this interpreter."""
        return self.workers_free_threaded if flavour.free_threaded else self.workers_with_gil

    def parallelism(self, flavour: Flavour, workers: int) -> WorkerModel:
        """A configuration's parallelism: one worker is one process and its thread pool ("threads")."""
        return "threads" if workers == 1 else self.worker_model(flavour)

    def answering_processes(self, flavour: Flavour, workers: int) -> int:
        """How many distinct processes answer once every worker is up (1 when the workers are threads)."""
        return workers if self.worker_model(flavour) == "processes" else 1

    def refusal_in(self, log: str) -> str | None:
        """The declared reason when the server's output shows its refusal of 3.14t with the GIL on, else None."""
        refusal = self.gil_refusal
        return refusal.reason if refusal is not None and refusal.log_line in log else None

    def version_in(self, packages: Mapping[str, str | None]) -> str | None:
        """This server's version among an environment's installed distributions, however their names are spelt."""
        wanted = normalise(self.distribution)
        return next((version for name, version in packages.items() if normalise(name) == wanted), None)
