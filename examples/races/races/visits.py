"""A visit counter with a read-modify-write: race number two.

``record`` reads the count, logs the visit (a Python call with a loop), then writes
the count plus one. Two threads that read the same count both write the same next
number: one visit is lost and two callers get the same number. On 3.14t that happens
whenever two visits overlap. With the GIL, a thread switch can land inside the
Python call too: rarely under a server (the GIL changes hands every 5 ms by default),
often under pytest-run-parallel (it makes the GIL change hands every microsecond).
It is unsafe whatever the interpreter; the GIL only makes it rare.

The fix: a ``threading.Lock`` around the read and the write, or an atomic counter
(``itertools.count``, whose ``next`` is atomic on both interpreters).
"""

from __future__ import annotations

_state = {"count": 0}
_log: list[int] = []


def _audit(number: int) -> None:
    """Keep the last few visit numbers (the work that widens the window of the race)."""
    _log.append(number)
    total = 0
    for i in range(20_000):
        total += (number * i) % 7
    if len(_log) > 100:
        del _log[:50]


def record() -> int:
    """Count one visit and return its number (unsafe: read, work, write)."""
    count = _state["count"]
    _audit(count)
    _state["count"] = count + 1
    return count + 1


def total() -> int:
    return _state["count"]
