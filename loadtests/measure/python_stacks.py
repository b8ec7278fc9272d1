"""Python-level stacks of a running server, read from outside it: ``python -P python_stacks.py PID HZ SECONDS OUT``.

Run by the lab with the interpreter of the server's own environment (the reader must
be the same build as its target: 3.14 for 3.14, 3.14t for 3.14t). It uses CPython's
``_remote_debugging.RemoteUnwinder``, which copies the target's thread states and
frames out of its memory (``process_vm_readv``) and walks them in this process.
Nothing runs inside the server: no signal, no trace function, no stop-the-world, no
code injected. That is what makes it safe on free-threaded 3.14t, where Python's own
perf trampoline (``-X perf``) is not. A read can catch a thread while it changes its
stack; such a reading fails or is inconsistent and is dropped (counted as ``errors``).

Each reading weighs a thread's stack by the CPU time the thread used since the previous
reading (``/proc/PID/task/TID/schedstat``, nanoseconds on a CPU), and only when the
kernel reports the thread running at the reading (``/proc/PID/task/TID/stat``): a thread
that slept weighs nothing, however many readings catch it in ``Condition.wait``, and one
that finished its work and went back to waiting within the interval is left out rather
than credited to the wait it is in now. The weights are CPU microseconds, so shares are
shares of CPU. Standard library only. Writes one JSON object
to OUT when the time is up or on SIGTERM: ``{"hz", "samples", "on_cpu", "errors",
"cpu_s", "wall_s", "error", "stacks": [[tid, "outer;…;inner", cpu_us], …]}``; a frame is
``qualname (file)``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import Counter
from typing import Any


def short_file(path: str) -> str:
    """A file as a reader knows it: below site-packages, or its last two components."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:])


def running(pid: int, tid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "R"
    except (OSError, IndexError):
        return False


def cpu_ns(pid: int, tid: int) -> int | None:
    """Nanoseconds the thread has run on a CPU (the first field of its schedstat), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
            return int(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def frames_of(thread: Any) -> tuple[int, list[Any]]:
    """(native thread id, frames innermost first) of one ThreadInfo, or of a (tid, frames) tuple."""
    tid = getattr(thread, "thread_id", None)
    frames = getattr(thread, "frame_info", None)
    if tid is None:
        tid, frames = thread[0], thread[1]
    return int(tid), list(frames or [])


def label(frame: Any) -> str:
    name = getattr(frame, "funcname", None) or frame[0]
    file = getattr(frame, "filename", None) or frame[1]
    return f"{name} ({short_file(str(file))})".replace(";", ":")


def sample(pid: int, hz: float, seconds: float) -> dict[str, Any]:
    import _remote_debugging  # type: ignore[import-not-found]  # CPython 3.14's own module

    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    out: dict[str, Any] = {"hz": hz, "samples": 0, "on_cpu": 0, "errors": 0, "error": None, "stacks": []}
    stacks: Counter[tuple[int, str]] = Counter()
    ran: dict[int, int] = {}  # tid -> CPU ns at the previous reading
    cpu, started = time.process_time(), time.monotonic()
    try:
        unwinder = _remote_debugging.RemoteUnwinder(pid, all_threads=True)
    except Exception as error:  # no permission, another build, the process is gone
        out["error"] = f"{type(error).__name__}: {error}"
        return out
    period = 1.0 / hz
    deadline = started + seconds
    tick = started
    while not stop and time.monotonic() < deadline:
        try:
            threads = unwinder.get_stack_trace()
        except Exception:  # a stack changing under the read: drop this reading
            out["errors"] += 1
        else:
            out["samples"] += 1
            for thread in threads:
                tid, frames = frames_of(thread)
                now = cpu_ns(pid, tid)
                before = ran.get(tid)
                if now is None:
                    continue
                ran[tid] = now
                if frames and before is not None and now > before and running(pid, tid):
                    stacks[(tid, ";".join(label(f) for f in reversed(frames)))] += (now - before) // 1000
                    out["on_cpu"] += 1
        tick += period
        time.sleep(max(0.0, tick - time.monotonic()))
    out["cpu_s"] = round(time.process_time() - cpu, 4)
    out["wall_s"] = round(time.monotonic() - started, 3)
    out["stacks"] = [[tid, stack, n] for (tid, stack), n in stacks.most_common()]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print("usage: python -P python_stacks.py PID HZ SECONDS OUT", file=sys.stderr)
        return 2
    report = sample(int(argv[1]), float(argv[2]), float(argv[3]))
    with open(argv[4], "w") as handle:
        json.dump(report, handle)
    return 0 if report["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
