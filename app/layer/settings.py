"""What the layer reads from the environment: the app to serve and the lab's thread limit.

``LAB_APP`` names the app as ``module:attr`` (default ``app.main:app``, the lab's
built-in app); ``LAB_APP_DIR`` is put first on ``sys.path`` (default: the current
directory); ``LAB_THREADS`` caps anyio's worker threads per event loop. The lab passes
the same values to both interpreters, so a bad value stops start-up instead of falling
back to a default that would skew a comparison.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import LayerSettingsError

DEFAULT_APP = "app.main:app"
#: Default anyio worker threads per event loop. anyio's own default is 40; with
#: CPU-bound requests that many threads only add contention and memory on a small
#: machine, while 8 keeps every core busy (2-8 cores) with headroom for the event loop.
DEFAULT_THREADS = 8
MAX_THREADS = 1024


@dataclass(frozen=True)
class AppTarget:
    """An app named as ``module:attr``; ``attr`` may be dotted (``api.app``)."""

    module: str
    attr: str

    @classmethod
    def parse(cls, text: str, source: str = "LAB_APP") -> AppTarget:
        module, sep, attr = text.strip().partition(":")
        parts = [*module.split("."), *attr.split(".")]
        if not sep or not all(part.isidentifier() for part in parts):
            raise LayerSettingsError(
                f"{source} must be MODULE:ATTR, e.g. 'myservice.main:app', got {text!r}"
            )
        return cls(module, attr)

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"


@dataclass(frozen=True)
class LayerSettings:
    """The app to serve, where to import it from, and the thread limit."""

    target: AppTarget
    app_dir: Path
    threads: int = DEFAULT_THREADS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LayerSettings:
        env = os.environ if environ is None else environ
        return cls(
            target=AppTarget.parse(env.get("LAB_APP") or DEFAULT_APP),
            app_dir=app_dir(env.get("LAB_APP_DIR")),
            threads=thread_limit(env.get("LAB_THREADS")),
        )


def app_dir(raw: str | None, source: str = "LAB_APP_DIR") -> Path:
    """The directory to import the app from; the current directory when unset."""
    path = Path(raw).expanduser() if raw and raw.strip() else Path.cwd()
    if not path.is_dir():
        raise LayerSettingsError(f"{source} names {str(path)!r}, which is not a directory: give the directory "
                                 "that holds the app's top-level package")
    return path.resolve()


def thread_limit(raw: str | None) -> int:
    """``LAB_THREADS`` as an integer from 1 to :data:`MAX_THREADS`; the default when unset or blank."""
    if raw is None or not raw.strip():
        return DEFAULT_THREADS
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_THREADS:
        raise LayerSettingsError(f"LAB_THREADS must be an integer from 1 to {MAX_THREADS}, got {raw!r}")
    return value
