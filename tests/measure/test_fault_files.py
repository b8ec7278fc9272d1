"""The fault files a server's layer writes, read by the lab: requests in flight, a crash's traceback, stacks on demand.

The table is written by the layer's own module (``app/layer/faults.py``, standard library
only, so it runs here too); the crash and the dump come from a real child process that
installs the layer's files, as every server does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.layer import faults as layer_faults
from loadtests.core.paths import PROJECT_ROOT
from loadtests.measure.fault_files import FaultWatch, faults_dir, read_table, thread_stacks
from loadtests.measure.fault_reports import crash_report, endpoint_name, hang_bound, hang_report, hung_requests
from loadtests.results.records import Latency, RouteInfo

ROUTES = (RouteInfo(path="/books/{book_id}", kind="http", methods=("GET",), endpoint="shop.book", async_def=False,
                    body_model=None),)


def test_the_table_lists_what_is_in_flight_oldest_first_and_forgets_what_ended(tmp_path: Path) -> None:
    table = layer_faults.InFlightTable(tmp_path)
    first = table.enter("GET", "/books/12")
    time.sleep(0.002)
    second = table.enter("POST", "/orders/a b")  # a decoded path can hold spaces
    table.leave(first)
    third = table.enter("GET", "/x" * 200)  # longer than a slot: cut, still read
    read = read_table(table.path)
    assert read is not None and read.pid == os.getpid() and read.overflow == 0
    assert read.signal == (None if layer_faults.DUMP_SIGNAL is None else int(layer_faults.DUMP_SIGNAL))
    assert [(r.method, r.path[:11]) for r in read.running] == [("POST", "/orders/a b"), ("GET", "/x/x/x/x/x/")]
    assert read.running[0].started <= read.running[1].started <= time.time()
    table.leave(second)
    table.leave(third)
    assert read_table(table.path).running == ()  # type: ignore[union-attr]


def test_a_full_table_counts_the_requests_it_cannot_hold(tmp_path: Path) -> None:
    table = layer_faults.InFlightTable(tmp_path)
    slots = [table.enter("GET", f"/{i}") for i in range(layer_faults.SLOTS + 2)]
    assert slots[-2:] == [0, 0]
    read = read_table(table.path)
    assert read is not None and read.overflow == 2 and len(read.running) == layer_faults.SLOTS
    table.leave(0)  # an uncounted request ends: nothing to free


def test_each_thread_serves_from_slots_of_its_own(tmp_path: Path) -> None:
    """On 3.14t the loops of one server share no list or lock per request: each thread takes a block of slots."""
    table = layer_faults.InFlightTable(tmp_path)
    slots: dict[str, int] = {}

    def serve(name: str) -> None:
        slots[name] = table.enter("GET", f"/{name}")

    for name in ("a", "b"):
        worker = threading.Thread(target=serve, args=(name,))
        worker.start()
        worker.join()
    assert (slots["a"] - 1) // layer_faults.BLOCK != (slots["b"] - 1) // layer_faults.BLOCK
    read = read_table(table.path)
    assert read is not None and {r.path for r in read.running} == {"/a", "/b"}


def test_a_file_that_is_not_a_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "1.inflight").write_bytes(b"")
    (tmp_path / "2.inflight").write_bytes(b"something else".ljust(256))
    assert read_table(tmp_path / "1.inflight") is None and read_table(tmp_path / "2.inflight") is None
    assert read_table(tmp_path / "missing.inflight") is None


def test_an_endpoint_is_named_by_its_route_template_where_the_table_has_one() -> None:
    assert endpoint_name("GET", "/books/12", ROUTES) == "GET /books/{book_id}"
    assert endpoint_name("GET", "/authors/3", ROUTES) == "GET /authors/3"
    assert endpoint_name("GET", "/json", None) == "GET /json"


def test_the_hang_bound_is_ten_times_the_windows_p99_and_at_least_a_second() -> None:
    latency = Latency(p50=20.0, p95=80.0, p99=250.0, mean=30.0, max=400.0)
    assert hang_bound(latency) == (2.5, "10 × the window's p99 (250 ms), at least 1 s")
    fast = Latency(p50=1.0, p95=2.0, p99=3.0, mean=1.5, max=9.0)
    assert hang_bound(fast)[0] == 1.0
    assert hang_bound(None)[0] == 1.0 and "no request completed" in hang_bound(None)[1]


def test_stacks_are_split_one_per_thread() -> None:
    dump = ("Thread 0x01 [worker] (most recent call first):\n  File \"a.py\", line 3 in wait\n\n"
            "Current thread 0x02 [main] (most recent call first):\n  File \"b.py\", line 9 in run\n")
    assert thread_stacks(dump) == ('Thread 0x01 [worker] (most recent call first):\n  File "a.py", line 3 in wait',
                                   'Current thread 0x02 [main] (most recent call first):\n  File "b.py", line 9 in run')
    assert thread_stacks("") == ()


CHILD = textwrap.dedent("""
    import ctypes, sys, threading, time
    from app.layer import faults
    files = faults.install()
    lock = threading.Lock()
    lock.acquire()
    def stuck_in_a_lock():
        lock.acquire()
    slot = files.table.enter("GET", "/books/7")
    threading.Thread(target=stuck_in_a_lock, name="stuck").start()
    print("ready", flush=True)
    sys.stdin.readline()  # the lab dumps the stacks meanwhile
    ctypes.string_at(0)
""")


@pytest.fixture
def child(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], FaultWatch]]:
    watch = FaultWatch(faults_dir(tmp_path / "server.log"))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), layer_faults.FAULTS_DIR_ENV: str(watch.directory)}
    process = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield process, watch
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.mark.slow
def test_a_hung_process_shows_every_threads_stack_and_goes_on_then_its_crash_leaves_the_traceback(
        child: tuple[subprocess.Popen[str], FaultWatch]) -> None:
    process, watch = child
    assert [r.path for r in watch.running()] == ["/books/7"]
    hung = hung_requests(watch, time.time() + 5, 1.0)
    report = hang_report(watch, process.pid, hung, (1.0, "the floor"), ROUTES)
    assert report.pids == (process.pid,) and [r.endpoint for r in report.in_flight] == ["GET /books/{book_id}"]
    assert any("[stuck]" in s and "stuck_in_a_lock" in s for s in report.stacks)
    assert len(report.stacks) == 2 and process.poll() is None  # both threads, and the process goes on
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert watch.dump_stacks(process.pid, tree_root=stranger.pid) is None  # not in that tree: never signalled
    finally:
        stranger.kill()
        stranger.wait()
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.wait(timeout=10) == -signal.SIGSEGV
    crash = crash_report(watch, process.pid, process.returncode, ROUTES)
    assert crash.fatal == "Fatal Python error: Segmentation fault" and crash.exit_status == -signal.SIGSEGV
    assert "stuck_in_a_lock" in crash.traceback and "<string>" in crash.traceback
    assert [r.endpoint for r in crash.in_flight] == ["GET /books/{book_id}"] and crash.in_flight[0].seconds >= 0
    assert watch.new_deaths() == []  # told once
