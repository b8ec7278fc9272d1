"""What a server leaves for the lab when it crashes or hangs: tracebacks and the requests in flight.

When ``LAB_FAULTS_DIR`` names a directory (the lab sets it on every server it starts),
each process that imports the layer writes two files there, named by its pid:

- ``<pid>.faults``: faulthandler's output. A fatal signal (a segfault, an abort) writes
  every thread's Python stack into it, and so does :data:`DUMP_SIGNAL`, which the lab
  sends when a request has been in flight far longer than the window's latency: the
  process goes on, and the file shows where each thread waits. The server's own stderr
  is not used, because a process that dies can take its buffered output with it.
- ``<pid>.inflight``: the requests in flight, one fixed-width slot each, in a file mapped
  into memory. A write into a shared mapping goes straight to the page cache, so what
  the table held when the process died is still on disk for the lab to read, and an
  update costs a lock and a copy of 128 bytes, nothing more.

A slot reads ``+<start, Unix ns, 19 digits> <METHOD> <path>`` while its request runs and
starts with ``-`` once it has ended. The first slot is the header (the format's version,
the pid, the dump signal, the slot count, and how many requests found every slot taken).
A worker process forked by its server gets files of its own (``os.register_at_fork``).

Nothing happens without ``LAB_FAULTS_DIR``; a directory the layer cannot write to is
reported on stderr and the server runs without the files.
"""

from __future__ import annotations

import faulthandler
import mmap
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO

FAULTS_DIR_ENV = "LAB_FAULTS_DIR"
VERSION = 1
SLOT_BYTES = 128
SLOTS = 512
#: Slots a thread takes from the shared pool at a time: a request touches only its own thread's slots.
BLOCK = 16
#: Asks faulthandler for every thread's stack without stopping the process. A real-time signal:
#: servers and apps use SIGUSR1/SIGUSR2/SIGHUP for their own purposes, and none of these.
DUMP_SIGNAL = signal.SIGRTMIN + 6 if hasattr(signal, "SIGRTMIN") else None
BUSY, FREE = b"+", b"-"
TRACEBACK_SUFFIX, TABLE_SUFFIX = ".faults", ".inflight"


class InFlightTable:
    """The requests this process is serving, in a file mapped into memory (module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.reopen()

    def reopen(self) -> None:
        """A fresh, empty table for this process (a forked worker must not write into its parent's)."""
        self.pid = os.getpid()
        self.path = self.directory / f"{self.pid}{TABLE_SUFFIX}"
        self._lock = threading.Lock()  # guards the shared pool of blocks and the overflow count only
        # Slot numbers are 1-based (slot 0 is the header), handed out BLOCK at a time to each thread that serves
        # requests, so that on 3.14t the threads of a multi-loop server share no list, lock or cache line per
        # request: a loop's requests start and end on its own thread.
        self._blocks = [list(range(first + BLOCK - 1, first - 1, -1)) for first in range(1, SLOTS + 1, BLOCK)]
        self._mine = threading.local()
        self._overflow = 0
        with self.path.open("w+b") as file:
            file.truncate(SLOT_BYTES * (SLOTS + 1))
            self._map = mmap.mmap(file.fileno(), SLOT_BYTES * (SLOTS + 1))
        self._write_header()

    def enter(self, method: str, path: str) -> int:
        """Record a request that starts; returns its slot (0 when every slot is taken: it is only counted)."""
        free = self._free()
        if not free:
            with self._lock:
                if self._blocks:
                    free.extend(self._blocks.pop())
                else:
                    self._overflow += 1
                    self._write_header()
                    return 0
        slot = free.pop()
        text = f"{time.time_ns():019d} {method} {path}".encode("utf-8", "replace")[: SLOT_BYTES - 2]
        start = slot * SLOT_BYTES
        self._map[start:start + SLOT_BYTES] = BUSY + text.ljust(SLOT_BYTES - 2) + b"\n"
        return slot

    def leave(self, slot: int) -> None:
        """The request in ``slot`` has ended."""
        if slot <= 0:
            return
        start = slot * SLOT_BYTES
        self._map[start:start + 1] = FREE
        self._free().append(slot)

    def _free(self) -> list[int]:
        """This thread's free slots."""
        try:
            return self._mine.free  # type: ignore[no-any-return]
        except AttributeError:
            self._mine.free = []
            return self._mine.free  # type: ignore[no-any-return]

    def _write_header(self) -> None:
        signum = 0 if DUMP_SIGNAL is None else int(DUMP_SIGNAL)
        text = (f"gil-lab in-flight {VERSION} pid={self.pid} signal={signum} slots={SLOTS} "
                f"overflow={self._overflow}").encode()
        self._map[0:SLOT_BYTES] = text.ljust(SLOT_BYTES - 1) + b"\n"


class FaultFiles:
    """Both files of this process: faulthandler's output and the in-flight table."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.table: InFlightTable | None = None
        self._traceback: IO[str] | None = None  # kept open: faulthandler writes to its descriptor

    def open(self) -> None:
        """Point faulthandler at this process's file and start a fresh table (also after a fork)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = self._traceback
        self._traceback = (self.directory / f"{os.getpid()}{TRACEBACK_SUFFIX}").open("a", buffering=1)
        faulthandler.enable(self._traceback, all_threads=True)
        if DUMP_SIGNAL is not None:
            faulthandler.register(DUMP_SIGNAL, self._traceback, all_threads=True, chain=False)
        if previous is not None:
            previous.close()
        if self.table is None:
            self.table = InFlightTable(self.directory)
        else:
            self.table.reopen()


_installed: FaultFiles | None = None


def install(environ: dict[str, str] | None = None) -> FaultFiles | None:
    """Start writing both files when ``LAB_FAULTS_DIR`` is set; idempotent. None when it is not set."""
    global _installed
    if _installed is not None:
        return _installed
    raw = (os.environ if environ is None else environ).get(FAULTS_DIR_ENV, "").strip()
    if not raw:
        return None
    files = FaultFiles(Path(raw))
    try:
        files.open()
    except OSError as error:
        print(f"gil-lab layer: cannot write crash and in-flight files to {raw} ({error}); the lab will not see "
              "what this server was doing if it crashes or hangs", file=sys.stderr)
        return None
    os.register_at_fork(after_in_child=files.open)
    _installed = files
    return files
