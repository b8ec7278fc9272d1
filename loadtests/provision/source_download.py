"""Download the pinned CPython source tarball, check it, and store it only when it is intact.

The file is written under a temporary name in a directory beside the source cache and
renamed into place only after its sha256 matched, so an interrupted, truncated or
wrong download never lands in ``<lab cache>/sources/``. Every attempt has a timeout and
all attempts together a deadline: an unreachable mirror fails in seconds instead of
hanging. Proxies come from the usual ``HTTP(S)_PROXY`` / ``NO_PROXY`` variables, which
urllib reads itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from loadtests.core.errors import DownloadError
from loadtests.provision.cpython_release import MIRROR_VARIABLE, PINNED_SHA256

CHUNK_BYTES = 1 << 16
ATTEMPT_TIMEOUT_S = 10.0  # per connection and per read: how long a silent server is waited for
TOTAL_TIMEOUT_S = 30.0  # all attempts together, before any byte arrived
ATTEMPTS = 3


class _Transient(Exception):
    """A failure worth another attempt: no answer, a dropped connection, a server error."""


def _seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def partial_dir(dest: Path) -> Path:
    """Where a download is written before it is checked: beside the target directory, never in it."""
    return dest.parent.with_name(f".{dest.parent.name}-partial")


def download(url: str, dest: Path, expected_sha256: str = PINNED_SHA256, *,
             attempt_timeout: float = ATTEMPT_TIMEOUT_S, total_timeout: float = TOTAL_TIMEOUT_S,
             attempts: int = ATTEMPTS) -> Path:
    """Fetch ``url`` into ``dest`` if its sha256 is ``expected_sha256``; raise ``DownloadError`` otherwise."""
    deadline = time.monotonic() + total_timeout
    reasons: list[str] = []
    for attempt in range(1, attempts + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return _fetch(url, dest, expected_sha256.lower(), timeout=min(attempt_timeout, remaining))
        except _Transient as exc:
            reasons.append(str(exc))
            if attempt < attempts and deadline > time.monotonic():
                print(f"    download attempt {attempt} failed: {exc}; retrying", file=sys.stderr, flush=True)
    raise DownloadError(
        f"Could not download {url}: {reasons[-1] if reasons else 'no time left'} "
        f"({len(reasons)} attempt(s) within {_seconds(total_timeout)} s). "
        f"Check the network or proxy settings, or set {MIRROR_VARIABLE} to a reachable mirror."
    )


def _fetch(url: str, dest: Path, expected_sha256: str, timeout: float) -> Path:
    staging = partial_dir(dest)
    staging.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{dest.name}.", suffix=".part", dir=staging)
    part = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual, received, announced = _stream(url, out, timeout)
            out.flush()
            os.fsync(out.fileno())
        if announced is not None and received != announced:
            raise _Transient(f"the connection closed after {received} of {announced} bytes")
        if actual != expected_sha256:
            raise DownloadError(
                f"{url} is not the pinned release: its sha256 is {actual}, expected {expected_sha256} "
                f"({received} bytes received). The mirror serves a different or damaged file; "
                f"use another mirror ({MIRROR_VARIABLE}) or place the right file by hand."
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, dest)  # same file system: the file appears whole or not at all
        return dest
    finally:
        part.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: another download is using it
            staging.rmdir()


def _stream(url: str, out: BinaryIO, timeout: float) -> tuple[str, int, int | None]:
    """Copy the response body into ``out``; return its sha256, its size and the announced size."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "gil-lab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.isdigit() else None
            while chunk := response.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as exc:
        if exc.code in (408, 429) or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from exc
        raise DownloadError(
            f"{url} answered HTTP {exc.code} {exc.reason}. "
            + ("The mirror does not have this release; " if exc.code == 404 else "")
            + f"check {MIRROR_VARIABLE}, or place the file by hand."
        ) from exc
    except http.client.IncompleteRead as exc:
        raise _Transient(f"the connection closed after {received + len(exc.partial)} bytes "
                         f"({exc.expected} more were announced)") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise _Transient(f"no answer within {_seconds(timeout)} s") from exc
        raise _Transient(str(reason) or type(reason).__name__) from exc
    return digest.hexdigest(), received, announced
