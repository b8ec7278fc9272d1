"""The lab's side of the layer's fault files: tracebacks, requests in flight, and stacks on demand.

Every server the lab starts gets a directory of its own beside its log
(``<log stem>-faults/``, passed as ``LAB_FAULTS_DIR``), where each of its processes that
imports the layer keeps two files named by its pid (``app/layer/faults.py`` describes
them): ``<pid>.faults``, faulthandler's output, and ``<pid>.inflight``, its requests in
flight in fixed-width slots. Both outlive the process, so the lab reads them after a
crash as well as while the server runs.

:class:`FaultWatch` reads them. To see where a hung server's threads wait it sends the
signal the table's header names (faulthandler dumps every thread's stack and the process
goes on), only to a pid that wrote a table and still belongs to the server's process tree,
and reads what the dump appended.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

FAULTS_DIR_ENV = "LAB_FAULTS_DIR"
TRACEBACK_SUFFIX, TABLE_SUFFIX = ".faults", ".inflight"
SLOT_BYTES = 128  # as the layer writes them
FATAL = "Fatal Python error"
DUMP_TIMEOUT_S = 5.0
_HEADER = re.compile(rb"gil-lab in-flight (\d+) pid=(\d+) signal=(\d+) slots=(\d+) overflow=(\d+)")
_SLOT = re.compile(rb"\+(\d{19}) (\S+) (.*)")
_THREAD = re.compile(r"^(?:Current thread|Thread) 0x", re.MULTILINE)


def faults_dir(log_path: Path) -> Path:
    """The fault directory of the server whose output goes to ``log_path``."""
    return log_path.parent / f"{log_path.stem}-faults"


@dataclass(frozen=True)
class Running:
    """A request a server process had started and not finished, as its table says."""

    pid: int
    started: float  # Unix time, seconds
    method: str
    path: str


@dataclass(frozen=True)
class Table:
    """One process's in-flight table."""

    pid: int
    signal: int | None  # the signal that dumps its stacks; None: the layer registered none
    running: tuple[Running, ...]  # oldest first
    overflow: int  # requests that found every slot taken (not listed)


def read_table(path: Path) -> Table | None:
    """A table as the layer left it; None when the file is not one (still empty, or another format)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = _HEADER.match(data[:SLOT_BYTES])
    if header is None or header.group(1) != b"1":
        return None
    pid, signum, overflow = int(header.group(2)), int(header.group(3)), int(header.group(5))
    running = []
    for start in range(SLOT_BYTES, len(data) - SLOT_BYTES + 1, SLOT_BYTES):
        slot = _SLOT.match(data[start:start + SLOT_BYTES])
        if slot is not None:  # a free slot starts with "-"; a slot torn by a crash mid-write does not parse
            running.append(Running(pid, int(slot.group(1)) / 1e9, slot.group(2).decode("ascii", "replace"),
                                   slot.group(3).rstrip(b" ").decode("utf-8", "replace")))
    return Table(pid, signum or None, tuple(sorted(running, key=lambda r: r.started)), overflow)


def thread_stacks(dump: str) -> tuple[str, ...]:
    """faulthandler's dump split into one text per thread (``Thread 0x...`` or ``Current thread 0x...``)."""
    starts = [m.start() for m in _THREAD.finditer(dump)]
    return tuple(dump[a:b].strip() for a, b in zip(starts, [*starts[1:], len(dump)][:len(starts)], strict=True))


@dataclass(frozen=True)
class Fatal:
    """What faulthandler wrote when a process died."""

    pid: int
    first_line: str  # ``Fatal Python error: Segmentation fault``
    traceback: str  # from that line to the end of the file
    at: float  # when it was written (the file's modification time): the moment of death, near enough


class FaultWatch:
    """The fault files of one server: what is in flight, who died, and every thread's stack on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        # A server restarted with the same settings writes into the same directory: the files of the
        # processes before it are not this server's.
        self._earlier = {p.name for p in directory.iterdir()}
        self._reported: set[int] = set()  # pids whose death was reported already

    def _files(self, suffix: str) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{suffix}") if p.name not in self._earlier)

    def tables(self) -> list[Table]:
        return [t for t in (read_table(p) for p in self._files(TABLE_SUFFIX)) if t is not None]

    def running(self) -> list[Running]:
        """Every request in flight in any of the server's processes, oldest first."""
        return sorted((r for t in self.tables() for r in t.running), key=lambda r: r.started)

    def table_of(self, pid: int) -> Table | None:
        return read_table(self.directory / f"{pid}{TABLE_SUFFIX}")

    def new_deaths(self) -> list[Fatal]:
        """Processes whose faulthandler wrote a fatal error since the last call (each is told once)."""
        found = []
        for path in self._files(TRACEBACK_SUFFIX):
            pid = int(path.stem) if path.stem.isdigit() else 0
            if pid in self._reported:
                continue
            fatal = _fatal_in(path, pid)
            if fatal is not None:
                self._reported.add(pid)
                found.append(fatal)
        return found

    def death_of(self, pid: int) -> Fatal | None:
        """What ``pid`` wrote when it died (also when already told), or None when it wrote nothing."""
        self._reported.add(pid)
        return _fatal_in(self.directory / f"{pid}{TRACEBACK_SUFFIX}", pid)

    def dump_stacks(self, pid: int, tree_root: int | None, timeout: float = DUMP_TIMEOUT_S) -> str | None:
        """Every thread's stack of ``pid``, dumped by faulthandler while the process goes on; None when it cannot be
        asked (no signal registered, not in the server's tree, gone) or did not answer within ``timeout``."""
        table = self.table_of(pid)
        if table is None or table.signal is None or not _in_tree(pid, tree_root):
            return None
        path = self.directory / f"{pid}{TRACEBACK_SUFFIX}"
        before = _size(path)
        try:
            os.kill(pid, table.signal)
        except (ProcessLookupError, PermissionError):
            return None
        deadline, last = time.monotonic() + timeout, before
        while time.monotonic() < deadline:
            time.sleep(0.05)
            size = _size(path)
            if size > before and size == last:  # written, and no longer growing
                break
            last = size
        with contextlib.suppress(OSError), path.open("rb") as file:
            file.seek(before)
            text = file.read().decode("utf-8", "replace")
            return text or None
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _fatal_in(path: Path, pid: int) -> Fatal | None:
    try:
        text = path.read_text(errors="replace")
        at = path.stat().st_mtime
    except OSError:
        return None
    where = text.rfind(FATAL)
    if where < 0:
        return None
    tail = text[where:]
    return Fatal(pid, tail.splitlines()[0].strip(), tail.strip(), at)


def _in_tree(pid: int, root: int | None) -> bool:
    """Whether ``pid`` is the server's own process or one of its descendants (never signal a stranger)."""
    if root is None:
        return False
    if pid == root:
        return True
    try:
        return pid in {child.pid for child in psutil.Process(root).children(recursive=True)}
    except psutil.Error:
        return False
