"""Native profiles with Linux ``perf``: can it run here, record a server, read the stacks back.

Sampling is on ``cpu-clock``, a software timer: virtual machines rarely expose hardware
counters, and CPU time is what a request costs. Stacks are unwound from a copy of each
sample's stack (``--call-graph dwarf,8192``) with the interpreter's debug information.
The lab's interpreters are built with ``-g`` and without frame pointers; perf's default
frame-pointer unwinding then stops after a frame or two, and building with frame
pointers would change the binary being measured (and the build's cache key). An
8 KiB copy reaches the thread's start in nearly every sample of a server. perf's
reader resolves inlined functions from the same debug information, so reference
counting inlined into the eval loop appears under its own name (``Py_DECREF``,
``_Py_TryIncRefShared``) rather than only as the eval loop.

Timestamps are CLOCK_MONOTONIC (``-k``), so a window's samples are chosen by the same
clock the lab times windows with. Nothing here knows what the functions mean:
:mod:`.native_causes` classifies them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.native_causes import Frame, folded_name
from loadtests.measure.supervised import supervised
from loadtests.provision.process_env import clean_env
from loadtests.results.records import ProfilingSetup

PERF_EVENT = "cpu-clock"
FREQUENCY_HZ = 199
STACK_BYTES = 8192
WINDOW_S = 5.0
PARANOID = Path("/proc/sys/kernel/perf_event_paranoid")
STOP_TIMEOUT_S = 30.0
SCRIPT_TIMEOUT_S = 300.0
INSTALL = "apt-get install linux-perf (as root: `make system-deps`)"
_HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<tid>\d+)\s+(?P<time>\d+\.\d+):\s*$")
_FRAME = re.compile(r"^\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.*?)\s+\((?P<dso>[^()]*)\)\s*$")


def record_args(perf: str, out: Path, *target: str) -> list[str]:
    """``perf record`` with the lab's options, writing ``out``; ``target`` is ``-p PID`` or ``-- command``."""
    return [perf, "record", "-q", "-e", PERF_EVENT, "-F", str(FREQUENCY_HZ), "--call-graph", f"dwarf,{STACK_BYTES}",
            "-k", "CLOCK_MONOTONIC", "-o", str(out), *target]


def _paranoid() -> int | None:
    try:
        return int(PARANOID.read_text().strip())
    except (OSError, ValueError):
        return None


def _remedy(stderr: str) -> str:
    paranoid = _paranoid()
    if paranoid is not None and paranoid > 1 and os.geteuid() != 0:
        return (f"perf_event_paranoid is {paranoid}: run the lab as root, or allow profiling with "
                "`sudo sysctl kernel.perf_event_paranoid=1` (it resets at reboot).")
    if "Permission" in stderr or "EPERM" in stderr or "Operation not permitted" in stderr:
        return ("perf_event_open is refused: in a container, give it the capability (docker run --cap-add "
                "PERFMON, or --cap-add SYS_ADMIN on older kernels) and a seccomp profile that allows "
                "perf_event_open; on a host, lower kernel.perf_event_paranoid.")
    return "Run `perf record -e cpu-clock -- true` to see what perf says, and fix that first."


def setup(python_sampler_hz: float | None = None) -> ProfilingSetup:
    """Whether perf can sample a process here, tried for real with the options a profile uses."""
    perf = shutil.which("perf")

    def result(reason: str | None, remedy: str | None, version: str | None = None) -> ProfilingSetup:
        return ProfilingSetup(available=reason is None, reason=reason, remedy=remedy, perf_version=version,
                              event=PERF_EVENT, frequency_hz=FREQUENCY_HZ, unwinding="dwarf",
                              stack_bytes=STACK_BYTES, window_s=WINDOW_S, python_sampler_hz=python_sampler_hz)

    if perf is None:
        return result("perf is not installed", f"Install it: {INSTALL}.")
    try:
        version = subprocess.run([perf, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return result(f"perf does not run: {exc}", f"Reinstall it: {INSTALL}.")
    if not version:  # Debian's wrapper prints its complaint (no perf for this kernel) on stderr
        return result("perf has no binary for this kernel", f"Install the linux-perf matching it: {INSTALL}.")
    with tempfile.TemporaryDirectory(prefix="gil-lab-perf-") as tmp:
        try:
            trial = subprocess.run(record_args(perf, Path(tmp) / "trial.data", "--", "true"), capture_output=True,
                                   text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            return result(f"perf record failed: {exc}", _remedy(str(exc)), version)
    if trial.returncode != 0:
        said = " ".join(trial.stderr.split())[:300] or f"exit status {trial.returncode}"
        return result(f"perf record cannot sample here: {said}", _remedy(trial.stderr), version)
    return result(None, None, version)


class Recording:
    """``perf record`` attached to a running process, under the lab's supervisor (it dies with the lab).

    Stopped with SIGTERM, which perf treats like Ctrl-C: it writes its file and exits.
    """

    def __init__(self, pids: Sequence[int], out: Path) -> None:
        perf = shutil.which("perf")
        if perf is None:
            raise FileNotFoundError("perf is not installed")
        self.out = out
        self.log = out.with_suffix(".log")
        with self.log.open("wb") as log:
            self.process = supervised(record_args(perf, out, "-p", ",".join(map(str, pids))), cwd=out.parent, env=clean_env(),
                                      output=log, grace=STOP_TIMEOUT_S)
        self.stopped: str | None = None

    def stop(self) -> str | None:
        """Stop and wait (once); the reason it failed, or None."""
        if self.stopped is None:
            code = self.process.stop(STOP_TIMEOUT_S)
            if not self.out.is_file() or self.out.stat().st_size == 0:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:] if self.log.is_file() else []
                self.stopped = f"perf record wrote nothing (exit status {code}): {' '.join(tail)}"
            else:
                self.stopped = ""
        return self.stopped or None


@contextlib.contextmanager
def recording(pids: Sequence[int], out: Path) -> Iterator[Recording]:
    """Record every thread of ``pids`` for the duration of the block; the recording is always stopped."""
    rec = Recording(pids, out)
    try:
        yield rec
    finally:
        rec.stop()


@dataclass(frozen=True)
class NativeSample:
    tid: int
    comm: str
    time: float  # CLOCK_MONOTONIC, seconds
    frames: tuple[Frame, ...]  # innermost first


def _library(dso: str) -> str:
    """``[kernel]``; an installed package's file relative to site-packages (``uvloop/loop.cpython-….so``); else
    the file's name."""
    if dso.startswith("[kernel") or dso.startswith("[vdso"):
        return "[kernel]"
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in dso:
            return dso.split(marker, 1)[1]
    return Path(dso).name or dso


def parse_script(lines: Iterable[str]) -> Iterator[NativeSample]:
    """Samples from ``perf script -F comm,tid,time,ip,sym,dso`` (a header line, then one line per frame)."""
    header: re.Match[str] | None = None
    frames: list[Frame] = []
    pending_inline: list[str] = []
    for line in lines:
        found = _HEADER.match(line)
        if found is not None or not line.strip():
            if header is not None:
                yield NativeSample(int(header["tid"]), header["comm"].strip(), float(header["time"]), tuple(frames))
            header, frames, pending_inline = found, [], []
            continue
        frame = _FRAME.match(line)
        if frame is None or header is None:
            continue
        symbol = frame["sym"].split("+0x")[0] or "[unknown]"
        if frame["dso"] == "inlined":
            pending_inline.append(symbol)  # its library is the next real frame's
            continue
        library = _library(frame["dso"])
        frames += [Frame(name, library, True) for name in pending_inline]
        frames.append(Frame(symbol if not symbol.startswith("0x") else "[unknown]", library, False))
        pending_inline = []
    if header is not None:
        yield NativeSample(int(header["tid"]), header["comm"].strip(), float(header["time"]), tuple(frames))


def read_samples(data: Path, start: float, end: float) -> list[NativeSample]:
    """The samples of ``data`` taken between ``start`` and ``end`` (CLOCK_MONOTONIC seconds)."""
    perf = shutil.which("perf") or "perf"
    proc = subprocess.Popen([perf, "script", "-i", str(data), "-F", "comm,tid,time,ip,sym,dso"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    assert proc.stdout is not None
    try:
        samples = [s for s in parse_script(proc.stdout) if start <= s.time <= end]
    finally:
        proc.stdout.close()
        try:
            proc.wait(timeout=SCRIPT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return samples


def folded(samples: Iterable[NativeSample], kinds: Mapping[int, str]) -> Counter[str]:
    """Stacks root first, one line per distinct stack, each headed by its thread's kind (or OS name)."""
    out: Counter[str] = Counter()
    for sample in samples:
        names = [folded_name(f) for f in reversed(sample.frames)] or ["[no stack]"]
        out[";".join([kinds.get(sample.tid, sample.comm), *names])] += 1
    return out


def write_folded(stacks: Counter[str], path: Path) -> None:
    path.write_text("".join(f"{stack} {count}\n" for stack, count in sorted(stacks.items())))
