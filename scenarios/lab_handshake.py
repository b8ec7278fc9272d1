"""The arithmetic of the lab's worker handshake, shared by the lab and the Locust processes of a session.

Standard library only: Locust loads this file beside ``lab_workers.py`` (which imports
it), and the lab loads the same file (``loadtests/measure/handshake.py``), so both sides
compute every MAC with one piece of code.

The run's token never reaches a Locust process. Each session (one Locust master) has a
random id, and two keys derived from the token and that id: the *master key*, with
which the master proves it knows the token, and the *worker key*, with which a worker
proves it. The master's Locust process holds both keys of its own session; a worker's
Locust process holds only the worker key. A key file names them; the process that reads
it deletes it.

1. challenge: the worker side sends a fresh nonce; the master answers with its session
   id, a nonce of its own, the files it ships, and :func:`mac` under the master key over
   both nonces, the session, the asking client and the files' sha256;
2. hello: the worker's Locust process names the master's nonce and sends :func:`mac`
   under the worker key over both nonces, the session, its own client id and the files
   it loaded. The master accepts each of its nonces once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

VERSION = 1
CHALLENGE, HELLO = "lab_challenge", "lab_hello"
KEYS_ENV = "LAB_SESSION_KEYS"  # path of the session's key file (JSON), never the keys themselves


def derive(token: str, role: str, session: str) -> bytes:
    """The ``role`` ("master" or "worker") key of ``session`` from the run's token."""
    return hmac.new(token.encode(), _canonical(f"gil-lab/{role}-key/{VERSION}", session), hashlib.sha256).digest()


def mac(key: bytes, label: str, *parts: Any) -> str:
    """HMAC-SHA256 under ``key`` of ``label`` and ``parts`` (strings and lists), in one unambiguous encoding."""
    return hmac.new(key, _canonical(label, *parts), hashlib.sha256).hexdigest()


def same(expected: str, given: object) -> bool:
    """A constant-time comparison of a MAC with whatever arrived (bytes on both sides: any text, no TypeError)."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def file_digest(hashes: Mapping[str, str]) -> list[list[str]]:
    """``{name: sha256}`` as sorted pairs: the form every MAC covers."""
    return [[str(name), str(digest)] for name, digest in sorted(hashes.items())]


def sha256_text(text: str) -> str:
    """A locustfile's sha256 as ``-f -`` writes it: text, newlines as \\n."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def _canonical(label: str, *parts: Any) -> bytes:
    return json.dumps([label, *parts], separators=(",", ":"), ensure_ascii=True).encode()


def write_keys(path: str, keys: Mapping[str, str]) -> None:
    """A key file only its owner can read (created so: never readable by others, even for an instant)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(dict(keys), fh)


def take_keys(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Read the key file ``$LAB_SESSION_KEYS`` names, then delete it; {} without one."""
    path = (os.environ if environ is None else environ).get(KEYS_ENV)
    if not path:
        return {}
    try:
        with open(path) as fh:
            keys = json.load(fh)
    except (OSError, ValueError):
        return {}
    with contextlib.suppress(OSError):
        os.unlink(path)
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


def safe_names(files: Iterable[object]) -> list[tuple[str, str]] | None:
    """Shipped files as ``(name, contents)``, or None when one would not be a plain ``.py`` file of the
    worker's own directory (a path, a hidden file, a name twice)."""
    out: list[tuple[str, str]] = []
    for item in files:
        if not isinstance(item, Mapping):
            return None
        name, contents = item.get("filename"), item.get("contents")
        if (not isinstance(name, str) or not isinstance(contents, str) or os.path.basename(name) != name
                or name.startswith(".") or not name.endswith(".py") or name in {n for n, _ in out}):
            return None
        out.append((name, contents))
    return out
