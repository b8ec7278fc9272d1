"""Pure-CPU loops: the simplest workloads, with no I/O and no large objects.

``pure`` is interpreter work only, so it shows the GIL at its plainest: one core's
worth of throughput on 3.14 whatever the thread count. ``hash_loop`` spends its time
in short ``hashlib`` calls, which never release the GIL for inputs this small.

``pure_shared`` is ``pure`` reading a module-level object that is *not* immortal on
3.14t: every thread that runs it writes that object's reference count on every
iteration, so on 3.14t its threads contend for one cache line. It is what ``pure``
becomes when its module is compiled from source (its constant is then an ordinary
object), made independent of the bytecode state so that the contention can be measured
on purpose: the ``contended`` scenario.
"""

from __future__ import annotations

import hashlib

#: Iterations per request. A default request costs roughly 50-100 ms of CPU (see
#: docs/app.md), enough requests per measured window on a small machine while
#: keeping the load generator's share small. Each maximum is 20 defaults: about 1-2 s.
PURE_DEFAULT = 500_000
PURE_MAX = 10_000_000
HASH_DEFAULT = 150_000
HASH_MAX = 3_000_000

_HASH_INPUT = b"gil-lab: a short payload to hash"
_MODULUS = 1_000_003
#: The same value made at import time: not a code constant, so never immortal, even when loaded from a .pyc.
_SHARED_MODULUS = int("1000003")


def pure(n: int) -> int:
    """Run ``n`` rounds of integer arithmetic in a Python loop and return the checksum."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i * i + (i >> 3)) % _MODULUS
    return acc


def pure_shared(n: int) -> int:
    """``pure`` with its modulus read from a module global every thread shares (never immortal)."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i * i + (i >> 3)) % _SHARED_MODULUS
    return acc


def hash_loop(n: int) -> str:
    """Hash a short constant ``n`` times with SHA-256 and return the last hex digest."""
    digest = ""
    sha256 = hashlib.sha256
    for _ in range(n):
        digest = sha256(_HASH_INPUT).hexdigest()
    return digest
