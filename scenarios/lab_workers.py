"""Which Locust workers may join a lab master, on which clock, and how busy each one is.

Loaded into every Locust process of a lab session (the master ships it to its workers
with ``-f -``), before ``lab_support.py``, which imports it. It speaks Locust's own
custom messages (``runner.register_message`` / ``send_message``) over the master's port:

1. A worker says ``lab_hello`` as soon as it has connected (``events.init``): an HMAC
   of its client id under the shared token ``$LAB_LOCUST_TOKEN`` (never the token
   itself), its Locust version, the lab version it runs (``$LAB_VERSION``, set by
   ``gil-lab worker``), the sha256 of every locustfile it loaded, its host name and
   the address it reaches the master from.
2. The master refuses a worker whose token, Locust version, lab version or files differ
   from its own, naming both values (``lab_refused``, then Locust's ``quit``), and
   asks any worker that has not said hello within :data:`HELLO_TIMEOUT_S` to quit.
   Locust itself only warns about another version, and counts every connected
   worker: the lab starts load only once every connected worker is admitted.
3. It then measures the worker's clock: :data:`CLOCK_ROUNDS` ping/pong rounds, and the
   round with the shortest round trip gives the offset (worker clock minus master
   clock, within half that round trip). Samples and CPU readings of that worker are
   moved onto the master's clock by that offset.
4. With every report the worker ships its own CPU time (``time.process_time()``,
   measured where it runs) beside the time of the reading, so a saturated worker is
   seen on any machine.

A worker writes what happened to ``$LAB_WORKER_STATUS`` (a JSON file, when set):
admitted or refused (with the reason) and the last heartbeat from its master, so
``gil-lab worker`` can tell a refusal from the end of a session or a lost master.

This file is shipped to workers as it is: standard library, gevent and Locust only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

import gevent
import locust
import locust.runners
from gevent.event import AsyncResult
from locust import events
from locust.runners import MasterRunner, WorkerRunner

TOKEN_ENV = "LAB_LOCUST_TOKEN"
LAB_VERSION_ENV = "LAB_VERSION"
STATUS_ENV = "LAB_WORKER_STATUS"
MASTER_TIMEOUT_ENV = "LAB_MASTER_TIMEOUT"
HELLO, PING, PONG, WELCOME, REFUSED = "lab_hello", "lab_ping", "lab_pong", "lab_welcome", "lab_refused"
HELLO_TIMEOUT_S = 10.0  # master: a connected worker that has not said hello by then is asked to quit
ADMISSION_TIMEOUT_S = 20.0  # worker: not admitted by then (a master that went away meanwhile): quit, to be restarted
PONG_TIMEOUT_S = 2.0
CLOCK_ROUNDS = 5
REFUSED_EXIT_CODE = 78  # EX_CONFIG: restarting the worker cannot help
NOT_ADMITTED_EXIT_CODE = 75  # EX_TEMPFAIL: try again with the next master
CPU_KEEP = 2400  # readings per worker kept between drains (20 minutes at 2 a second)

log = logging.getLogger("lab_workers")

# master side: client id -> what the worker said and what the master measured
_workers: dict[str, dict[str, Any]] = {}
_refused: list[dict[str, Any]] = []
_pongs: dict[str, AsyncResult] = {}
# worker side
_mine: dict[str, Any] = {"admitted": False, "refused": None, "last_heartbeat": None, "offset_ms": None}


# ---- what both sides compare -----------------------------------------------------------------


def file_hashes(paths: Iterable[str]) -> dict[str, str]:
    """sha256 of each locustfile by file name, as ``-f -`` ships them (text, newlines as \\n)."""
    out = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            continue
        out[os.path.basename(path)] = hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()
    return out


def proof(token: str, client_id: str) -> str:
    """What a worker sends instead of the token: an HMAC of its client id under it."""
    return hmac.new(token.encode(), client_id.encode(), hashlib.sha256).hexdigest()


def identity(environment: Any) -> dict[str, Any]:
    """This process's Locust version, lab version and locustfiles: what must match across a session."""
    return {"locust": locust.__version__, "lab": os.environ.get(LAB_VERSION_ENV) or None,
            "files": file_hashes(getattr(environment, "parsed_locustfiles", None) or [])}


def _short(value: str | None) -> str:
    return "none" if value is None else value[:12]


def differences(master: dict[str, Any], worker: dict[str, Any]) -> list[str]:
    """Why a worker cannot measure with this master, each naming the master's value and the worker's."""
    out = []
    if master.get("locust") != worker.get("locust"):
        out.append(f"Locust version: master {master.get('locust')}, worker {worker.get('locust')}")
    if master.get("lab") != worker.get("lab"):
        hint = " (start workers with `gil-lab worker`)" if worker.get("lab") is None else ""
        out.append(f"lab version: master {master.get('lab')}, worker {worker.get('lab')}{hint}")
    ours, theirs = master.get("files") or {}, worker.get("files") or {}
    for name in sorted(set(ours) | set(theirs)):
        if ours.get(name) != theirs.get(name):
            out.append(f"scenario file {name}: master sha256 {_short(ours.get(name))}, "
                       f"worker sha256 {_short(theirs.get(name))}")
    return out


def clock_offset(rounds: Iterable[tuple[float, float, float]]) -> tuple[float, float]:
    """``(offset, round trip)`` in seconds from ``(sent, worker time, received)`` rounds (NTP's estimate).

    The worker read its clock somewhere between ``sent`` and ``received`` on the master's
    clock; taking the middle is wrong by at most half the round trip, so the round with
    the shortest trip wins. offset = worker clock - master clock.
    """
    sent, worker_time, received = min(rounds, key=lambda r: r[2] - r[0])
    return worker_time - (sent + received) / 2, received - sent


# ---- master side ----------------------------------------------------------------------------


def clock_shift(client_id: str) -> float | None:
    """Seconds to subtract from that worker's times to get the master's; None unless it is admitted."""
    worker = _workers.get(client_id)
    if worker is None or not worker.get("admitted"):
        return None
    return float(worker["offset_s"])


def record_cpu(client_id: str, reading: Any) -> None:
    """Keep a worker's ``[time, cpu seconds]`` reading, on the master's clock."""
    shift = clock_shift(client_id)
    if shift is None or not isinstance(reading, (list, tuple)) or len(reading) != 2:
        return
    series = _workers[client_id].setdefault("cpu", [])
    series.append([float(reading[0]) - shift, float(reading[1])])
    del series[:-CPU_KEEP]


def drain_cpu() -> dict[str, list[list[float]]]:
    """Every worker's CPU readings since the last drain (and forget them)."""
    out = {}
    for client_id, worker in _workers.items():
        if worker.get("cpu"):
            out[client_id] = worker["cpu"]
            worker["cpu"] = []
    return out


def describe(runner: Any) -> dict[str, Any]:
    """Every worker that said hello (with its Locust state, or ``gone``), and every refusal."""
    clients = getattr(runner, "clients", None) or {}
    workers = []
    for client_id, worker in sorted(_workers.items()):
        node = clients.get(client_id) if hasattr(clients, "get") else None
        state = "gone" if node is None else str(node.state)
        workers.append({"id": client_id, "state": state,
                        **{k: v for k, v in worker.items() if k not in ("cpu", "proof")}})
    strangers = [cid for cid in (clients.keys() if hasattr(clients, "keys") else []) if cid not in _workers]
    return {"workers": workers, "refused": list(_refused), "strangers": sorted(strangers)}


def _refuse(runner: Any, client_id: str, reason: str, about: dict[str, Any] | None = None) -> None:
    about = about or {}
    _refused.append({"id": client_id, "host": about.get("host"), "address": about.get("address"),
                     "reason": reason, "at": time.time()})
    _workers.pop(client_id, None)
    log.warning("refused Locust worker %s (%s): %s", client_id, about.get("address") or "?", reason)
    runner.send_message(REFUSED, {"reason": reason}, client_id=client_id)
    runner.send_message("quit", client_id=client_id)


def _measure_clock(runner: Any, client_id: str) -> None:
    rounds = []
    for number in range(CLOCK_ROUNDS):
        result = _pongs[client_id] = AsyncResult()
        sent = time.time()
        runner.send_message(PING, {"round": number, "sent": sent}, client_id=client_id)
        try:
            worker_time, received = result.get(timeout=PONG_TIMEOUT_S)
        except gevent.Timeout:
            continue
        rounds.append((sent, worker_time, received))
    _pongs.pop(client_id, None)
    worker = _workers.get(client_id)
    if worker is None:
        return
    if not rounds:
        _refuse(runner, client_id, "it did not answer the clock check", worker)
        return
    offset, trip = clock_offset(rounds)
    worker.update(admitted=True, offset_s=offset, rtt_s=trip, joined_at=time.time())
    log.info("admitted Locust worker %s (%s): clock offset %+.2f ms, round trip %.2f ms", client_id,
             worker.get("address"), offset * 1000, trip * 1000)
    runner.send_message(WELCOME, {"offset_ms": offset * 1000, "rtt_ms": trip * 1000}, client_id=client_id)


def _on_hello(environment: Any, msg: Any, **_: Any) -> None:
    runner, client_id, data = environment.runner, msg.node_id, msg.data or {}
    about = {k: data.get(k) for k in ("host", "address", "pid", "locust", "lab", "files")}
    token = os.environ.get(TOKEN_ENV, "")
    if token and not hmac.compare_digest(str(data.get("proof", "")), proof(token, client_id)):
        _refuse(runner, client_id, f"wrong token: its {TOKEN_ENV} is not the master's", about)
        return
    found = differences(identity(environment), about)
    if found:
        _refuse(runner, client_id, "; ".join(found), about)
        return
    _workers[client_id] = {**about, "admitted": False}
    gevent.spawn(_measure_clock, runner, client_id)


def _on_pong(environment: Any, msg: Any, **_: Any) -> None:
    received = time.time()
    result = _pongs.get(msg.node_id)
    if result is not None and not result.ready():
        result.set((float(msg.data["worker_time"]), received))


def _expect_hello(runner: Any, client_id: str) -> None:
    gevent.sleep(HELLO_TIMEOUT_S)
    clients = getattr(runner, "clients", {})
    if client_id in clients and client_id not in _workers and not any(r["id"] == client_id for r in _refused):
        _refuse(runner, client_id, f"no lab handshake within {HELLO_TIMEOUT_S:g} s: it does not run the lab's "
                                   "recorder (start workers with `gil-lab worker --master HOST:PORT`)")


# ---- worker side ----------------------------------------------------------------------------


def _write_status(**changes: Any) -> None:
    _mine.update(changes)
    path = os.environ.get(STATUS_ENV)
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(_mine, fh)
    os.replace(tmp, path)


def _address_towards(host: str, port: int) -> str | None:
    """The local address this machine reaches ``host`` from (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            return str(sock.getsockname()[0])
    except OSError:
        return None


def _say_hello(environment: Any, runner: Any) -> None:
    data = {"proof": proof(os.environ.get(TOKEN_ENV, ""), runner.client_id), **identity(environment),
            "host": socket.gethostname(), "address": _address_towards(runner.master_host, runner.master_port),
            "pid": os.getpid()}
    runner.send_message(HELLO, data)


def _on_ping(environment: Any, msg: Any, **_: Any) -> None:
    environment.runner.send_message(PONG, {"round": msg.data["round"], "worker_time": time.time()})


def _on_welcome(environment: Any, msg: Any, **_: Any) -> None:
    log.info("admitted by the master: clock offset %+.2f ms (round trip %.2f ms)", msg.data["offset_ms"],
             msg.data["rtt_ms"])
    _write_status(admitted=True, offset_ms=msg.data["offset_ms"], last_heartbeat=time.time())


def _on_refused(environment: Any, msg: Any, **_: Any) -> None:
    reason = str((msg.data or {}).get("reason"))
    log.error("the master refused this worker: %s", reason)
    environment.process_exit_code = REFUSED_EXIT_CODE
    _write_status(refused=reason)


def _await_admission(environment: Any) -> None:
    gevent.sleep(ADMISSION_TIMEOUT_S)
    if not _mine["admitted"] and not _mine["refused"]:
        log.error("the master did not admit this worker within %g s; quitting", ADMISSION_TIMEOUT_S)
        environment.process_exit_code = NOT_ADMITTED_EXIT_CODE
        environment.runner.quit()


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(HELLO, _on_hello)
        runner.register_message(PONG, _on_pong)
        events.worker_connect.add_listener(lambda client_id, **_: _on_connect(runner, client_id))
    elif isinstance(runner, WorkerRunner):
        timeout = os.environ.get(MASTER_TIMEOUT_ENV)
        if timeout:  # read by Locust's heartbeat checker on every loop
            locust.runners.MASTER_HEARTBEAT_TIMEOUT = float(timeout)
        runner.register_message(PING, _on_ping)
        runner.register_message(WELCOME, _on_welcome)
        runner.register_message(REFUSED, _on_refused)
        _say_hello(environment, runner)
        gevent.spawn(_await_admission, environment)


def _on_connect(runner: Any, client_id: str) -> None:
    # Locust fires this again each time a worker is ready after a stop; only a newcomer must say hello.
    if client_id not in _workers:
        gevent.spawn(_expect_hello, runner, client_id)


@events.heartbeat_received.add_listener
def _on_heartbeat(client_id: str, timestamp: float, **_: Any) -> None:
    _mine["last_heartbeat"] = timestamp


@events.report_to_master.add_listener
def _on_report(client_id: str, data: dict, **_: Any) -> None:
    data["lab_cpu"] = [time.time(), time.process_time()]


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        _write_status()
