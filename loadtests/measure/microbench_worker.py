"""One microbenchmark process: run CPU-bound workloads in 1..N threads, print JSON.

Run by ``loadtests.measure.microbench`` inside each interpreter under test (3.14, 3.14t,
3.14t with ``PYTHON_GIL=1``). Standard library only, because it runs in bare
interpreters, and no HTTP, because it is the baseline the HTTP figures are read
against (claims C1 and C3).

Usage: ``python microbench_worker.py '<json config>'`` with the keys ``workloads``,
``threads`` (list of thread counts), ``seconds`` (measured time per point) and
``warmup_s``. It prints one JSON object on stdout.

How a point is measured: ``n`` threads wait on a barrier, then each repeats one
workload operation until a shared deadline; the wall time runs from the barrier's
release to the last thread's end. Every thread builds its own inputs, so no object
is shared between threads: shared reference counts would measure contention the
workload does not have in a web app.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import sysconfig
import threading
import time

# One "op" is one call of the workload: one pure-Python pass, 20 json.loads, 500 sha256 digests.
INNER_LOOP = {"json": 20, "hash": 500}


def gil_enabled() -> bool:
    """The runtime GIL state; True on interpreters that cannot turn it off."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return bool(probe()) if probe is not None else True


# --- workloads: each returns a zero-argument callable doing one operation ------------------


def make_pure():
    """Pure-Python integer and list work, a few milliseconds per call."""

    def op() -> int:
        acc = 0
        for i in range(12_000):
            acc = (acc * 31 + i * i) % 1_000_003
        values = [acc ^ k for k in range(400)]
        values.sort()
        return values[0]

    return op


def make_json():
    """stdlib ``json.loads`` of a 4 kB document (the C scanner never releases the GIL)."""
    doc = json.dumps(
        {"orders": [{"id": i, "sku": f"SKU-{i:05d}", "qty": i % 7, "price": i * 1.25, "tags": ["a", "b", str(i)]}
                    for i in range(40)]}
    )
    count = INNER_LOOP["json"]

    def op() -> int:
        total = 0
        for _ in range(count):
            total += len(json.loads(doc)["orders"])
        return total

    return op


def make_hash():
    """``hashlib.sha256`` of 64-byte inputs: below the 2 kB threshold, so the GIL is held."""
    block = bytes(range(64))
    count = INNER_LOOP["hash"]

    def op() -> int:
        h = b""
        for _ in range(count):
            h = hashlib.sha256(block + h[:8]).digest()
        return h[0]

    return op


WORKLOADS = {"pure": make_pure, "json": make_json, "hash": make_hash}


def measure(workload: str, threads: int, seconds: float) -> dict:
    """One point: ``threads`` threads run ``workload`` for ``seconds`` of wall time."""
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    errors: list[BaseException] = []
    deadline = [0.0]

    def worker(slot: int) -> None:
        op = WORKLOADS[workload]()  # built in the thread: nothing shared
        op()
        barrier.wait()
        end = deadline[0]
        done = 0
        try:
            while time.perf_counter() < end:
                op()
                done += 1
        except BaseException as exc:  # reported, never swallowed
            errors.append(exc)
        counts[slot] = done

    pool = [threading.Thread(target=worker, args=(i,), name=f"mb-{workload}-{i}") for i in range(threads)]
    for t in pool:
        t.start()
    gil_before = gil_enabled()
    cpu_start = time.process_time()  # all threads of this process
    start = time.perf_counter()
    deadline[0] = start + seconds  # set before the release: threads read it after the barrier
    barrier.wait()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    if errors:
        raise RuntimeError(f"{workload} with {threads} threads failed: {errors[0]!r}")
    ops = sum(counts)
    return {
        "workload": workload,
        "threads": threads,
        "seconds": round(wall, 6),
        "ops": ops,
        "ops_per_s": round(ops / wall, 4) if wall > 0 else None,
        "ops_per_thread": counts,
        # CPU the threads actually got: on a shared machine, fewer cores than threads means
        # the point could not scale whatever the interpreter
        "cpu_cores": round(cpu / wall, 3) if wall > 0 else None,
        "gil_enabled": gil_before or gil_enabled(),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: microbench_worker.py '<json config>'", file=sys.stderr)
        return 2
    config = json.loads(argv[1])
    workloads = list(config["workloads"])
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        print(f"unknown workload(s) {unknown}; known: {sorted(WORKLOADS)}", file=sys.stderr)
        return 2
    thread_counts = [int(n) for n in config["threads"]]
    seconds = float(config["seconds"])
    warmup = float(config.get("warmup_s", 0.1))
    start_state = gil_enabled()
    for w in workloads:  # warm up each workload (specialisation, imports) before timing anything
        measure(w, 1, warmup)
    points = [measure(w, n, seconds) for w, n in config.get("order") or [(w, n) for w in workloads
                                                                           for n in thread_counts]]
    print(json.dumps({
        "python": platform.python_version(),
        "executable": sys.executable,
        "free_threaded": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
        "gil_flag": getattr(sys.flags, "gil", None),
        "gil_enabled_at_start": start_state,
        "gil_enabled_at_end": gil_enabled(),
        "points": points,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
