"""A worker trusts only the lab's master, and the master trusts only a hello it can check once: real attacks.

On loopback, with real processes: `gil-lab worker`, Locust masters that are not the
lab's (a plain Locust master, and one with the lab's own files but another run's keys)
serving a locustfile that leaves a mark when a worker imports it, and a real lab
session whose worker's traffic is captured by a relay and replayed byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

from loadtests.measure.handshake import KEYS_ENV, SessionKeys, write_key_file
from loadtests.measure.load_session import RECORDER_FILES, locust_executable
from loadtests.measure.ports import free_port
from loadtests.plan.scenarios import SCENARIOS_DIR
from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup, wait_for

pytestmark = pytest.mark.slow

TOKEN = "the-runs-token-0123456789"
EVIL = """import sys
from pathlib import Path
from locust import HttpUser, task
if "--worker" in sys.argv:  # imported where the load runs: the attacker's code ran there
    Path({marker!r}).write_text(" ".join(sys.argv))


class Evil(HttpUser):
    @task
    def nothing(self) -> None:
        pass
"""


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path, cwd: Path = PROJECT_ROOT) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


@contextmanager
def fake_master(tmp_path: Path, name: str, files: list[Path], extra_env: dict[str, str] | None = None
                ) -> Iterator[tuple[int, Path]]:
    """A real Locust master on loopback serving ``files`` (ending with the mark-leaving one); its port, the mark."""
    marker = tmp_path / f"{name}-imported"
    evil = tmp_path / name / "locustfile.py"
    evil.parent.mkdir()
    evil.write_text(EVIL.format(marker=str(marker)))
    port = free_port()
    args = [locust_executable(), "-f", ",".join(str(f) for f in [*files, evil]), "--master",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--web-host", "127.0.0.1",
            "--web-port", str(free_port())]
    with _process(args, {**lab_env(), **(extra_env or {})}, tmp_path / f"{name}.log", cwd=evil.parent):
        wait_for(lambda: _listening(port), f"the {name} master to listen", timeout=60)
        yield port, marker


def gil_lab_worker(port: int, log: Path, *extra: str) -> tuple[int, str]:
    """`gil-lab worker` against 127.0.0.1:``port`` with the run's token, to its end; exit status and output."""
    require_setup()
    result = subprocess.run([str(GIL_LAB), "worker", "--master", f"127.0.0.1:{port}", *extra],
                            env=lab_env(LAB_LOCUST_TOKEN=TOKEN), cwd=log.parent, capture_output=True, text=True,
                            timeout=120)
    log.write_text(result.stdout + result.stderr)
    return result.returncode, result.stdout + result.stderr


def test_a_plain_locust_master_gets_a_bare_locust_worker_to_import_its_code_but_not_a_lab_worker(
        tmp_path: Path) -> None:
    with fake_master(tmp_path, "squatter", []) as (port, marker):
        # The attack is real: Locust's own `-f -` imports whatever the port sends.
        bare = subprocess.Popen([locust_executable(), "-f", "-", "--worker", "--master-host", "127.0.0.1",
                                 "--master-port", str(port)], cwd=tmp_path, env=lab_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(marker.exists, "a bare Locust worker to import the squatter's file", timeout=60)
        finally:
            os.killpg(bare.pid, signal.SIGKILL)
            bare.wait(30)
        marker.unlink()
        code, output = gil_lab_worker(port, tmp_path / "worker.log", "--master-timeout", "4")
    assert not marker.exists(), marker.read_text()
    assert code == 1, output
    assert f"refused the process at 127.0.0.1:{port}: nothing at 127.0.0.1:{port} answered the lab's challenge" \
           in output and "nothing was run" in output
    assert "starting a Locust worker" not in output


def test_a_master_with_the_labs_files_but_another_runs_keys_is_refused_and_named(tmp_path: Path) -> None:
    keys = write_key_file(tmp_path / "keys.json", SessionKeys.new("another-runs-token").for_master())
    with fake_master(tmp_path, "other-run", list(RECORDER_FILES), {KEYS_ENV: str(keys)}) as (port, marker):
        code, output = gil_lab_worker(port, tmp_path / "worker.log", "--master-timeout", "4")
    assert not marker.exists(), marker.read_text()
    assert code == 1, output
    assert f"refused the process at 127.0.0.1:{port}: the process at 127.0.0.1:{port} did not prove it knows " \
           "the run's token" in output
    assert "no verified master at" in output and "starting a Locust worker" not in output


class Relay:
    """A TCP relay that keeps every byte each client sent: what a reader of the plaintext port would capture."""

    def __init__(self, target: int) -> None:
        self.target, self.sent = target, []  # one bytearray per connection, client to master
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            captured = bytearray()
            self.sent.append(captured)
            threading.Thread(target=self._pipe, args=(client, upstream, captured), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, captured: bytearray | None) -> None:
        try:
            while data := source.recv(65536):
                if captured is not None:
                    captured += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


def _locust_processes_with_session_keys() -> dict[int, bytes]:
    """pid -> environ of every Locust process given a session key file (the lab's masters and workers)."""
    found = {}
    for process in psutil.process_iter():
        try:
            environ = Path(f"/proc/{process.pid}/environ").read_bytes()
            if KEYS_ENV.encode() + b"=" in environ and "locust" in " ".join(process.cmdline()):
                found[process.pid] = environ
        except (psutil.Error, OSError):
            continue
    return found


def zmtp_pieces(stream: bytes) -> Iterator[bytes]:
    """The captured bytes cut where their sender cut them: the greeting in its three steps, then frame by frame.

    libzmq reads a peer's greeting step by step, so a replay sends the same bytes in the
    same order, paced as the original client sent them.
    """
    yield stream[:10]
    yield stream[10:11]
    yield stream[11:64]
    at = 64
    while at < len(stream):
        long = stream[at] & 0x02
        head = 9 if long else 2
        size = int.from_bytes(stream[at + 1:at + 9]) if long else stream[at + 1]
        yield stream[at:at + head + size]
        at += head + size


@contextmanager
def lab_session(port: int, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A real lab session (tests/e2e/master_driver.py) whose master listens on 127.0.0.1:``port``, ended at the end."""
    driver = subprocess.Popen([sys.executable, "-m", "tests.e2e.master_driver", str(port), str(tmp_path / "session")],
                              cwd=PROJECT_ROOT, env=lab_env(LAB_LOCUST_TOKEN=TOKEN), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: _listening(port), "the lab's master to listen", timeout=60)
        yield driver
    finally:
        if driver.stdin is not None:
            driver.stdin.close()
        try:
            driver.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(30)


def _ask(driver: subprocess.Popen[str]) -> dict:
    assert driver.stdin is not None and driver.stdout is not None
    driver.stdin.write("status\n")
    driver.stdin.flush()
    return json.loads(driver.stdout.readline())


def test_a_captured_hello_replayed_to_the_master_is_refused(tmp_path: Path) -> None:
    port = free_port()
    with lab_session(port, tmp_path) as driver:
        relay = Relay(port)
        try:
            env = lab_env(LAB_LOCUST_TOKEN=TOKEN)
            with _process([str(GIL_LAB), "worker", "--master", f"127.0.0.1:{relay.port}", "--sessions", "1"], env,
                          tmp_path / "worker.log") as worker:
                assert driver.stdout is not None
                admitted = driver.stdout.readline().split()
                assert admitted[:1] == ["admitted"], (tmp_path / "worker.log").read_text()
                locusts = _locust_processes_with_session_keys()
                assert len(locusts) >= 2  # the lab's master and the worker gil-lab worker started
                assert not [pid for pid, environ in locusts.items() if TOKEN.encode() in environ]  # keys, no token
                os.killpg(worker.pid, signal.SIGTERM)  # the worker leaves, as at the end of a run
                worker.wait(30)
            wait_for(lambda: not _ask(driver)["workers"], "the master to forget the worker that left", timeout=30)
            (hello,) = [bytes(c) for c in relay.sent if b"lab_hello" in c]
            assert TOKEN.encode() not in b"".join(relay.sent)  # the token itself never crossed the wire
            with socket.create_connection(("127.0.0.1", port)) as replay:  # the captured bytes, replayed as sent
                for piece in zmtp_pieces(hello):
                    replay.sendall(piece)
                    time.sleep(0.05)
                status = wait_for(lambda: (s := _ask(driver)) and any("replayed" in r["reason"] for r in s["refused"])
                                  and s, "the master to refuse the replayed hello", timeout=30)
        finally:
            relay.close()
    assert isinstance(status, dict)
    refusal = next(r for r in status["refused"] if "replayed" in r["reason"])
    assert refusal["id"] == admitted[1]  # the same client id, the same bytes: refused all the same
    assert not any(w.get("admitted") for w in status["workers"])


class Strangers:
    """Locust-speaking clients without the lab's handshake that keep connecting, a new identity every half second."""

    def __init__(self, port: int) -> None:
        self.port, self.ids, self.stopped = port, [], threading.Event()
        self.thread = threading.Thread(target=self._connect, daemon=True)
        self.thread.start()

    def _connect(self) -> None:
        import msgpack
        import zmq

        context = zmq.Context()
        sockets = []
        while not self.stopped.is_set():
            identity = f"stranger-{len(self.ids)}"
            sock = context.socket(zmq.DEALER)
            sock.setsockopt(zmq.IDENTITY, identity.encode())
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(f"tcp://127.0.0.1:{self.port}")
            sock.send(msgpack.packb(("client_ready", "2.47.0", identity)))  # as Locust's worker says it; no hello
            sockets.append(sock)
            self.ids.append(identity)
            self.stopped.wait(0.5)
        for sock in sockets:
            sock.close(0)
        context.term()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)


def test_strangers_that_keep_connecting_neither_hold_the_load_back_nor_get_users(tmp_path: Path) -> None:
    port = free_port()
    with lab_session(port, tmp_path) as driver:
        strangers = Strangers(port)
        try:
            wait_for(lambda: len(strangers.ids) >= 3, "strangers to connect", timeout=30)
            with _process([str(GIL_LAB), "worker", "--master", f"127.0.0.1:{port}", "--sessions", "1"],
                          lab_env(LAB_LOCUST_TOKEN=TOKEN), tmp_path / "worker.log"):
                assert driver.stdout is not None and driver.stdin is not None
                assert driver.stdout.readline().startswith("admitted")  # ready although strangers are connected
                before = _ask(driver)
                assert [c for c in before["connected"] if c.startswith("stranger-")]  # still there, not admitted
                driver.stdin.write("load http://127.0.0.1:9\n")  # the load starts: the admission deadline
                driver.stdin.flush()
                started = json.loads(driver.stdout.readline())
        finally:
            strangers.stop()
    refused = {r["id"]: r["reason"] for r in started["refused"]}
    pending = [c for c in before["connected"] if c.startswith("stranger-")]
    assert all(c in refused for c in pending), (pending, refused)  # each named, with why
    assert any("admission deadline" in refused[c] for c in pending)
    assert not set(pending) & set(started["connected"])  # taken out before any user was handed out


def test_a_master_started_by_hand_without_the_labs_keys_admits_workers_as_plain_locust(tmp_path: Path) -> None:
    """compose's locust-master and locust-worker: the recorder's figures, no token to check."""
    port, web = free_port(), free_port()
    scenario = str(SCENARIOS_DIR / "json_load.py")
    master = [locust_executable(), "-f", scenario, "--master", "--master-bind-host", "127.0.0.1",
              "--master-bind-port", str(port), "--web-host", "127.0.0.1", "--web-port", str(web)]
    worker = [locust_executable(), "-f", scenario, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def admitted() -> list[dict]:
        try:
            with opener.open(f"http://127.0.0.1:{web}/lab/status", timeout=5) as answer:
                return [w for w in json.loads(answer.read())["admission"]["workers"] if w["admitted"]]
        except OSError:
            return []

    with _process(master, lab_env(), tmp_path / "master.log", cwd=SCENARIOS_DIR), \
            _process(worker, lab_env(), tmp_path / "worker.log", cwd=SCENARIOS_DIR):
        (joined,) = wait_for(admitted, "the worker to be admitted", timeout=60)  # type: ignore[misc]
    assert joined["locust"] and joined["offset_s"] is not None


def test_the_files_a_master_ships_are_the_labs_recorder_then_the_scenario() -> None:
    names = [f.name for f in RECORDER_FILES]
    assert names == ["lab_handshake.py", "lab_workers.py", "lab_support.py"]
    assert all((SCENARIOS_DIR / name).is_file() for name in names)
