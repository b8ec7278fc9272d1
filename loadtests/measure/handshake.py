"""The lab's side of the worker handshake: a master proves it knows the run's token before anything it sends is used.

Threat: a process that answers on the master's address but is not the lab's master (a
port squatter on the lab's machine, a spoofed address on the network). It must not get
a worker to import code, or learn the token. An attacker on the path who reads the
plaintext ZMQ traffic is not covered: that needs ZMQ's CURVE encryption or a tunnel.

- :func:`session_keys`: the lab makes a session id and the session's two keys for each
  Locust master it starts; the master's Locust reads them from a key file, never the token.
- :func:`challenge_master`: before a worker's Locust starts (``gil-lab worker``, or the
  lab for its own local workers), the lab sends a nonce over the master's port and
  checks the answer's MAC under the master key, which only a holder of the token can
  derive. It binds both nonces, the session, this client and the sha256 of every file
  shipped, so an answer can be neither replayed nor altered. Only then are the shipped
  files written, and the Locust worker gets a key file with the *worker* key of that
  session and the master's nonce: with it, its hello proves the token too, once.

The MACs are computed by ``scenarios/lab_handshake.py``, the one file both sides load.
"""

from __future__ import annotations

import importlib.util
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from loadtests.core.errors import MasterUnverified
from loadtests.plan.scenarios import SCENARIOS_DIR

HANDSHAKE_FILE = SCENARIOS_DIR / "lab_handshake.py"
CHALLENGE_TIMEOUT_S = 5.0  # a master answers in milliseconds; this covers a slow network
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a master's answer carries the scenario's files; a bigger one is refused


def _shared() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gil_lab_handshake", HANDSHAKE_FILE)
    assert spec is not None and spec.loader is not None, HANDSHAKE_FILE
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = _shared()
KEYS_ENV: str = shared.KEYS_ENV


@dataclass(frozen=True)
class SessionKeys:
    """One master's session: its id and both keys (hex). The master's Locust gets these, never the token."""

    session: str
    master_key: str
    worker_key: str

    @classmethod
    def new(cls, token: str) -> SessionKeys:
        session = secrets.token_hex(16)
        return cls(session, shared.derive(token, "master", session).hex(), shared.derive(token, "worker", session).hex())

    def for_master(self) -> dict[str, str]:
        return {"role": "master", "session": self.session, "master_key": self.master_key,
                "worker_key": self.worker_key}


@dataclass(frozen=True)
class ShippedFile:
    name: str
    contents: str


@dataclass(frozen=True)
class Ticket:
    """What a verified master's answer gives a worker: the files to run and its one-time admission."""

    session: str
    master_nonce: str
    worker_nonce: str
    worker_key: str
    files: tuple[ShippedFile, ...]

    def for_worker(self) -> dict[str, str]:
        return {"role": "worker", "session": self.session, "challenge": self.master_nonce,
                "nonce": self.worker_nonce, "worker_key": self.worker_key}

    def write_files(self, directory: Path) -> list[Path]:
        """The shipped files, in the master's order, into ``directory`` (their names were checked)."""
        paths = []
        for shipped in self.files:
            path = directory / shipped.name
            path.write_text(shipped.contents, encoding="utf-8")
            paths.append(path)
        return paths


def write_key_file(path: Path, keys: dict[str, str]) -> Path:
    """A key file readable by its owner only, named to a Locust process by ``$LAB_SESSION_KEYS``."""
    shared.write_keys(str(path), keys)
    return path


def challenge_master(host: str, port: int, token: str, timeout: float = CHALLENGE_TIMEOUT_S) -> Ticket:
    """Ask what answers on ``host:port`` to prove it is this run's lab master; its ticket, or MasterUnverified."""
    import msgpack
    import zmq

    where = f"{host}:{port}"
    nonce = secrets.token_hex(16)
    client = f"{socket.gethostname()}_lab-challenge_{secrets.token_hex(8)}"
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    try:
        sock.setsockopt(zmq.IDENTITY, client.encode())
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_ANSWER_BYTES)
        sock.connect(f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{where}")
        sock.send(msgpack.packb((shared.CHALLENGE, {"nonce": nonce, "version": shared.VERSION}, client)))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not sock.poll(int(left * 1000) + 1):
                break
            answer = _unpack(msgpack, sock.recv())
            if answer is not None and answer[0] == shared.CHALLENGE:
                return _verified(answer[1], token, nonce, client, where)
        raise MasterUnverified(f"nothing at {where} answered the lab's challenge within {timeout:g} s: it is not a "
                               "lab master (another program on that port, or a Locust master without the lab's "
                               "recorder); nothing was run")
    finally:
        sock.close(0)
        context.term()


def tell_unverified(host: str, port: int, why: str) -> None:
    """Tell the master's address, best-effort, that this side did not believe it (it shows in the lab's output)."""
    import msgpack
    import zmq

    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    client = f"{socket.gethostname()}_lab-unverified_{secrets.token_hex(8)}"
    try:
        sock.setsockopt(zmq.IDENTITY, client.encode())
        sock.setsockopt(zmq.LINGER, 500)
        sock.connect(f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}")
        sock.send(msgpack.packb(("lab_unverified", {"host": socket.gethostname(), "reason": why}, client)))
    finally:
        sock.close()
        context.term()


def _unpack(msgpack: Any, raw: bytes) -> tuple[str, Any] | None:
    try:
        message = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception:  # noqa: BLE001 - anything undecodable is simply not an answer
        return None
    if not isinstance(message, (list, tuple)) or len(message) != 3 or not isinstance(message[0], str):
        return None
    return message[0], message[1]


def _verified(data: Any, token: str, nonce: str, client: str, where: str) -> Ticket:
    if not isinstance(data, dict):
        raise MasterUnverified(f"the process at {where} answered the lab's challenge with nonsense; nothing was run")
    session, theirs, files = data.get("session"), data.get("nonce"), shared.safe_names(data.get("files") or [])
    if not isinstance(session, str) or not isinstance(theirs, str) or files is None:
        raise MasterUnverified(f"the process at {where} answered the lab's challenge without a session, a nonce or "
                               "plain file names; nothing was run")
    hashes = {name: shared.sha256_text(contents) for name, contents in files}
    expected = shared.mac(shared.derive(token, "master", session), "challenge", session, nonce, theirs, client,
                          shared.file_digest(hashes))
    if not shared.same(expected, data.get("mac")):
        raise MasterUnverified(f"the process at {where} did not prove it knows the run's token: it is not this run's "
                               "lab master (a port squatter, a spoofed address, or the master of another run), or "
                               "this side's LAB_LOCUST_TOKEN is not the run's; nothing was run")
    return Ticket(session, theirs, nonce, shared.derive(token, "worker", session).hex(),
                  tuple(ShippedFile(name, contents) for name, contents in files))
