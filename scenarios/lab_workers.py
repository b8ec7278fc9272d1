"""Which Locust workers may join a lab master, on which clock, and how busy each one is.

Loaded into every Locust process of a lab session, after ``lab_handshake.py`` (whose
arithmetic it uses) and before ``lab_support.py`` (which imports it). It speaks Locust's
own custom messages (``runner.register_message`` / ``send_message``) over the master's
port. The keys come from the session's key file (``$LAB_SESSION_KEYS``, read and
deleted at import); the run's token itself never reaches a Locust process.

1. Before a worker's Locust starts, the lab (``gil-lab worker``, or the lab itself for
   its local workers) sends ``lab_challenge`` with a nonce; the master answers with its
   session id, a nonce of its own, the files it ships and a MAC under the master key.
   Nothing is imported on the worker's side unless that MAC is right. Each of the
   master's nonces is kept for :data:`CHALLENGE_TTL_S` and accepted once.
2. A worker says ``lab_hello`` as soon as it has connected (``events.init``): the
   master's nonce and a MAC under the worker key over both nonces, the session, its
   client id and the sha256 of every locustfile it loaded; its Locust version, the lab
   version it runs (``$LAB_VERSION``), its host name and the address it reaches the
   master from (strings the master cleans of control characters before keeping them).
3. The master refuses a worker whose hello answers no open challenge (a replayed or
   forged hello), whose MAC is wrong, or whose Locust version, lab version or files
   differ from its own, naming both values (``lab_refused``, then Locust's ``quit``),
   and asks any worker that has not said hello within :data:`HELLO_TIMEOUT_S` to quit.
   A refused worker is taken out of the master's worker list at once, so it gets no
   users. Locust itself counts every connected worker: when the master starts the load,
   every worker still not admitted is refused first (:func:`evict_pending`, the
   admission deadline), and a worker that connects while the load runs is recorded
   (``intrusions``): Locust moves users to it at once, so that window is not comparable.
4. It then measures the worker's clock: :data:`CLOCK_ROUNDS` ping/pong rounds, and the
   round with the shortest round trip gives the offset (worker clock minus master
   clock, within half that round trip). Samples and CPU readings of that worker are
   moved onto the master's clock by that offset.
5. With every report the worker ships its own CPU time (``time.process_time()``,
   measured where it runs) beside the time of the reading, so a saturated worker is
   seen on any machine.

A worker writes what happened to ``$LAB_WORKER_STATUS`` (a JSON file, when set):
admitted or refused (with the reason) and the last heartbeat from its master, so
``gil-lab worker`` can tell a refusal from the end of a session or a lost master.

This file is shipped to workers as it is: standard library, gevent and Locust only.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
import unicodedata
from collections.abc import Iterable
from typing import Any

import gevent
import lab_handshake  # shipped beside this file, and listed before it (see load_session.RECORDER_FILES)
import locust
import locust.runners
from gevent.event import AsyncResult
from lab_handshake import CHALLENGE, HELLO, file_digest, mac, same, sha256_text
from locust import events
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

LAB_VERSION_ENV = "LAB_VERSION"
STATUS_ENV = "LAB_WORKER_STATUS"
MASTER_TIMEOUT_ENV = "LAB_MASTER_TIMEOUT"
PING, PONG, WELCOME, REFUSED = "lab_ping", "lab_pong", "lab_welcome", "lab_refused"
UNVERIFIED = "lab_unverified"  # a worker side telling the master why it did not believe it (diagnostic only)
HELLO_TIMEOUT_S = 10.0  # master: a connected worker that has not said hello by then is asked to quit
CHALLENGE_TTL_S = 120.0  # master: how long a challenge it answered can be used by a hello
OPEN_CHALLENGES = 256  # master: challenges kept at most (the oldest go first): a stranger cannot fill memory
REFUSALS_KEPT = 100
DEPARTURE_CHECK_S = 1.0
DEPARTURE_S = 10.0  # a worker out of the master's list this long has left
TEXT_LIMIT = 200  # characters kept of a string a worker sent
ADMISSION_TIMEOUT_S = 20.0  # worker: not admitted by then (a master that went away meanwhile): quit, to be restarted
PONG_TIMEOUT_S = 2.0
CLOCK_ROUNDS = 5
REFUSED_EXIT_CODE = 78  # EX_CONFIG: restarting the worker cannot help
NOT_ADMITTED_EXIT_CODE = 75  # EX_TEMPFAIL: try again with the next master
CPU_KEEP = 2400  # readings per worker kept between drains (20 minutes at 2 a second)

log = logging.getLogger("lab_workers")

# both sides: this session's keys, read from the key file the lab wrote (and deleted now)
_keys: dict[str, str] = lab_handshake.take_keys()
# master side: client id -> what the worker said and what the master measured
_workers: dict[str, dict[str, Any]] = {}
_refused: list[dict[str, Any]] = []
_pongs: dict[str, AsyncResult] = {}
_challenges: dict[str, dict[str, Any]] = {}  # the master's nonce -> the asking side's nonce, when, who
_intrusions: list[dict[str, Any]] = []  # workers not admitted that connected while load ran
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
        out[os.path.basename(path)] = sha256_text(text)
    return out


def printable(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """A string a worker sent, safe for a terminal or a file: control and format characters escaped, cut."""
    if value is None:
        return None
    text = str(value)[:limit]
    return "".join(c if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)


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
    return {"workers": workers, "refused": list(_refused), "strangers": sorted(strangers),
            "intrusions": list(_intrusions)}


def _note_refusal(client_id: str, reason: str, about: dict[str, Any]) -> None:
    _refused.append({"id": printable(client_id), "host": about.get("host"), "address": about.get("address"),
                     "reason": reason, "at": time.time()})
    del _refused[:-REFUSALS_KEPT]


def _refuse(runner: Any, client_id: str, reason: str, about: dict[str, Any] | None = None) -> None:
    about = about or {}
    _note_refusal(client_id, reason, about)
    _workers.pop(client_id, None)
    log.warning("refused Locust worker %s (%s): %s", printable(client_id), about.get("address") or "?", reason)
    runner.send_message(REFUSED, {"reason": reason}, client_id=client_id)
    runner.send_message("quit", client_id=client_id)
    _evict(runner, client_id)


def _evict(runner: Any, client_id: str) -> None:
    """Take a worker out of the master's list, as Locust does when one quits: it gets no users."""
    node = runner.clients.get(client_id) if hasattr(runner.clients, "get") else None
    if node is None:
        return
    del runner.clients[client_id]
    dispatcher = getattr(runner, "_users_dispatcher", None)
    if dispatcher is not None:
        dispatcher.remove_worker(node)
        if not dispatcher.dispatch_in_progress and runner.state == STATE_RUNNING:
            runner.start(runner.target_user_count, runner.spawn_rate)  # its users go back to the admitted ones


def evict_pending(runner: Any) -> list[str]:
    """The admission deadline: refuse every connected worker that is not admitted. Runs when the master starts
    the load (``test_start`` fires before users are handed out), so no stranger is given users, and one that
    keeps reconnecting cannot hold the load back; the ids refused."""
    pending = [cid for cid in list(runner.clients.keys()) if not (_workers.get(cid) or {}).get("admitted")]
    for client_id in pending:
        _refuse(runner, client_id, "not admitted when the load started (the admission deadline): it said no "
                                   "valid lab handshake in time", _workers.get(client_id))
    return pending


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


def _about(data: dict[str, Any]) -> dict[str, Any]:
    """What a hello says about its worker, every string cleaned and cut, the file hashes checked for shape."""
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    pid = data.get("pid")
    return {"host": printable(data.get("host"), 100), "address": printable(data.get("address"), 64),
            "pid": pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            "locust": printable(data.get("locust"), 40), "lab": printable(data.get("lab"), 40),
            "files": {printable(k, 100): printable(v, 64) for k, v in list(files.items())[:64]}}


def _open_challenge(nonce: Any) -> dict[str, Any] | None:
    """The challenge a hello answers (taken: each is accepted once); None when unknown, used or expired."""
    ticket = _challenges.pop(nonce, None) if isinstance(nonce, str) else None
    if ticket is None or time.monotonic() - ticket["at"] > CHALLENGE_TTL_S:
        return None
    return ticket


def _on_hello(environment: Any, msg: Any, **_: Any) -> None:
    runner, client_id = environment.runner, msg.node_id
    data = msg.data if isinstance(msg.data, dict) else {}
    about = _about(data)
    if _keys.get("worker_key") and not _proven(runner, client_id, data, about):
        return
    # (a master started by hand, without the lab's keys, checks no token: plain Locust, as compose's locust-master)
    found = differences(identity(environment), about)
    if found:
        _refuse(runner, client_id, "; ".join(found), about)
        return
    _workers[client_id] = {**about, "admitted": False}
    gevent.spawn(_measure_clock, runner, client_id)


def _proven(runner: Any, client_id: str, data: dict[str, Any], about: dict[str, Any]) -> bool:
    """Whether a hello answers an open challenge of this master, once, with the token; refused otherwise."""
    ticket = _open_challenge(data.get("challenge"))
    if ticket is None:
        _refuse(runner, client_id, "its hello answers no open challenge of this master (a replayed or forged "
                                   "hello, or one older than "f"{CHALLENGE_TTL_S:g} s)", about)
        return False
    claimed = data.get("files") if isinstance(data.get("files"), dict) else {}
    expected = mac(bytes.fromhex(_keys["worker_key"]), "hello", _keys["session"], data.get("challenge"),
                   ticket["nonce"], client_id, file_digest(claimed))
    if not same(expected, data.get("proof")):
        _refuse(runner, client_id, "wrong token: its LAB_LOCUST_TOKEN is not the master's", about)
        return False
    return True


def shipped_files(environment: Any) -> list[dict[str, str]]:
    """The locustfiles this master runs, as Locust's ``-f -`` ships them: file name and text."""
    out = []
    for path in getattr(environment, "parsed_locustfiles", None) or []:
        with open(path, encoding="utf-8") as fh:
            out.append({"filename": os.path.basename(path), "contents": fh.read()})
    return out


def _on_challenge(environment: Any, msg: Any, **_: Any) -> None:
    """Prove to the asking side that this master knows the run's token, bound to its nonce and the files shipped."""
    data = msg.data if isinstance(msg.data, dict) else {}
    nonce = data.get("nonce")
    if not _keys.get("master_key") or not isinstance(nonce, str) or not 16 <= len(nonce) <= 128:
        return
    now = time.monotonic()
    for stale in [n for n, t in _challenges.items() if now - t["at"] > CHALLENGE_TTL_S]:
        del _challenges[stale]
    while len(_challenges) >= OPEN_CHALLENGES:
        del _challenges[next(iter(_challenges))]
    files = shipped_files(environment)
    ours = secrets.token_hex(16)
    _challenges[ours] = {"nonce": nonce, "at": now, "client": msg.node_id}
    proof = mac(bytes.fromhex(_keys["master_key"]), "challenge", _keys["session"], nonce, ours, msg.node_id,
                file_digest({f["filename"]: sha256_text(f["contents"]) for f in files}))
    environment.runner.send_message(CHALLENGE, {"session": _keys["session"], "nonce": ours, "files": files,
                                                "mac": proof}, client_id=msg.node_id)


def _on_unverified(environment: Any, msg: Any, **_: Any) -> None:
    """A worker side that did not believe this master says so: shown to the user, trusted for nothing."""
    data = msg.data if isinstance(msg.data, dict) else {}
    about = _about(data)
    _note_refusal(msg.node_id, "wrong token: it could not verify this master with its LAB_LOCUST_TOKEN "
                               "(or it reached another master)", about)


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
    mine = identity(environment)
    proof = None
    if _keys.get("worker_key"):  # from the lab's challenge of this master (gil-lab worker, or the lab itself)
        proof = mac(bytes.fromhex(_keys["worker_key"]), "hello", _keys["session"], _keys["challenge"],
                    _keys["nonce"], runner.client_id, file_digest(mine["files"]))
    data = {"challenge": _keys.get("challenge"), "proof": proof, **mine, "host": socket.gethostname(),
            "address": _address_towards(runner.master_host, runner.master_port), "pid": os.getpid()}
    runner.send_message(HELLO, data)


def _on_ping(environment: Any, msg: Any, **_: Any) -> None:
    environment.runner.send_message(PONG, {"round": msg.data["round"], "worker_time": time.time()})


def _on_welcome(environment: Any, msg: Any, **_: Any) -> None:
    log.info("admitted by the master: clock offset %+.2f ms (round trip %.2f ms)", msg.data["offset_ms"],
             msg.data["rtt_ms"])
    _write_status(admitted=True, offset_ms=msg.data["offset_ms"], last_heartbeat=time.time())


def _on_refused(environment: Any, msg: Any, **_: Any) -> None:
    reason = printable((msg.data or {}).get("reason") if isinstance(msg.data, dict) else None, limit=2000) or "?"
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
        runner.register_message(CHALLENGE, _on_challenge)
        runner.register_message(UNVERIFIED, _on_unverified)
        runner.register_message(HELLO, _on_hello)
        runner.register_message(PONG, _on_pong)
        events.worker_connect.add_listener(lambda client_id, **_: _on_connect(runner, client_id))
        gevent.spawn(_forget_the_departed, runner)
    elif isinstance(runner, WorkerRunner):
        timeout = os.environ.get(MASTER_TIMEOUT_ENV)
        if timeout:  # read by Locust's heartbeat checker on every loop
            locust.runners.MASTER_HEARTBEAT_TIMEOUT = float(timeout)
        runner.register_message(PING, _on_ping)
        runner.register_message(WELCOME, _on_welcome)
        runner.register_message(REFUSED, _on_refused)
        _say_hello(environment, runner)
        gevent.spawn(_await_admission, environment)


def _forget_the_departed(runner: Any) -> None:
    """An admitted worker that has left (quit, or dropped by Locust as dead) loses its admission: its client id
    coming back, even with its own bytes replayed, must say a new hello. Between two windows a worker leaves
    Locust's list only for a moment (``client_stopped``, then ``client_ready``): gone means gone for
    :data:`DEPARTURE_S` on end."""
    away_since: dict[str, float] = {}
    while True:
        gevent.sleep(DEPARTURE_CHECK_S)
        clients, now = getattr(runner, "clients", {}), time.monotonic()
        for client_id in list(_workers):
            if client_id in clients:
                away_since.pop(client_id, None)
            elif now - away_since.setdefault(client_id, now) >= DEPARTURE_S:
                _workers.pop(client_id, None)
                away_since.pop(client_id, None)


def _on_connect(runner: Any, client_id: str) -> None:
    # Locust fires this again each time a worker is ready after a stop; only a newcomer must say hello.
    if client_id in _workers:
        return
    if runner.state in (STATE_RUNNING, STATE_SPAWNING):  # Locust may give it users before it is refused
        _intrusions.append({"id": printable(client_id), "at": time.time()})
        del _intrusions[:-REFUSALS_KEPT]
    gevent.spawn(_expect_hello, runner, client_id)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        evict_pending(environment.runner)


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
