"""Human progress for long work: the current step and the elapsed time, on stderr."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``75.2`` -> ``"1m15s"``; short and stable for logs and progress lines."""
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


# Titles of the steps running now, outermost first (steps nest: resolve > build > compile).
_active: list[str] = []


@contextmanager
def step(title: str, stream: TextIO | None = None, heartbeat: float = 15.0) -> Iterator[None]:
    """Announce a step, repeat a heartbeat while it runs, and report how long it took.

    A heartbeat matters for multi-minute steps (a CPython build): silence for three
    minutes looks like a hang.
    """
    out = stream or sys.stderr
    start = time.monotonic()
    done = threading.Event()
    print(f"==> {title}", file=out, flush=True)
    _active.append(title)

    def beat() -> None:
        while not done.wait(heartbeat):
            if _active and _active[-1] == title:  # only the innermost step speaks: one line per beat
                print(f"    ... {title} ({format_seconds(time.monotonic() - start)} elapsed)", file=out, flush=True)

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        yield
    except BaseException:
        done.set()
        _active.remove(title)
        print(f"<== {title}: failed after {format_seconds(time.monotonic() - start)}", file=out, flush=True)
        raise
    done.set()
    _active.remove(title)
    print(f"<== {title}: done in {format_seconds(time.monotonic() - start)}", file=out, flush=True)


def note(text: str, stream: TextIO | None = None) -> None:
    """One indented line under the current step: what was found, skipped or decided, and why."""
    print(f"    {text}", file=stream or sys.stderr, flush=True)
