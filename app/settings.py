"""Start-up settings read from ``LAB_*`` environment variables.

The launcher sets the same values for both interpreters, so a bad value must stop
start-up loudly rather than fall back to a default and skew a comparison. The thread
limit (``LAB_THREADS``) is not read here: the layer that serves every app applies it
(``app/layer/settings.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError


@dataclass(frozen=True)
class Settings:
    """What the app needs to know before it serves a request."""

    routes_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate ``LAB_ROUTES_DIR``."""
        env = os.environ if environ is None else environ
        return cls(routes_dirs=_routes_dirs(env.get("LAB_ROUTES_DIR")))


def _routes_dirs(raw: str | None) -> tuple[Path, ...]:
    dirs = tuple(Path(part).expanduser() for part in (raw or "").split(os.pathsep) if part.strip())
    for path in dirs:
        if not path.is_dir():
            raise SettingsError(f"LAB_ROUTES_DIR names {str(path)!r}, which is not a directory")
    return dirs
