"""Start-up settings read from ``LAB_*`` environment variables.

The launcher sets the same values for both interpreters, so a bad value must stop
start-up loudly rather than fall back to a default and skew a comparison.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError

#: Default anyio worker threads per event loop. anyio's own default is 40; with
#: CPU-bound requests that many threads only add contention and memory on a small
#: machine, while 8 keeps every core busy (2-8 cores) with headroom for the event
#: loop. The lab passes the same LAB_THREADS to both interpreters.
DEFAULT_THREADS = 8
MAX_THREADS = 1024


@dataclass(frozen=True)
class Settings:
    """What the app needs to know before it serves a request."""

    threads: int = DEFAULT_THREADS
    routes_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate ``LAB_THREADS`` and ``LAB_ROUTES_DIR``."""
        env = os.environ if environ is None else environ
        return cls(threads=_threads(env.get("LAB_THREADS")), routes_dirs=_routes_dirs(env.get("LAB_ROUTES_DIR")))


def _threads(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_THREADS
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_THREADS:
        raise SettingsError(f"LAB_THREADS must be an integer from 1 to {MAX_THREADS}, got {raw!r}")
    return value


def _routes_dirs(raw: str | None) -> tuple[Path, ...]:
    dirs = tuple(Path(part).expanduser() for part in (raw or "").split(os.pathsep) if part.strip())
    for path in dirs:
        if not path.is_dir():
            raise SettingsError(f"LAB_ROUTES_DIR names {str(path)!r}, which is not a directory")
    return dirs
