"""Greetings rendered into one shared scratch buffer: race number one.

``render`` reuses a module-level ``bytearray`` for every call instead of building
its own, an old habit meant to spare allocations. Each step on the buffer is one
operation on it, and no step calls Python code or loops, so with the GIL no other
thread ever runs between the first and the last: the race never shows on 3.14. On
3.14t two requests really run at once, one resets the buffer while the other is
still filling it, and a caller gets someone else's greeting.

The fix: a local buffer (``page = bytearray()`` inside ``render``), or none at all.
"""

from __future__ import annotations

#: The rest of the rendered page: big enough that filling the buffer takes a while.
FILLER = b"." * 262_144
_scratch = bytearray()


def render(name: str) -> bytes:
    """``Hello, <name>!`` and the filler, built in the shared buffer (unsafe without the GIL)."""
    global _scratch  # the same buffer, extended in place: `+=` on a bytearray does not make a new one
    encoded = name.encode()
    _scratch[:] = b"Hello, "
    _scratch += encoded
    _scratch += b"!"
    _scratch += FILLER
    page = bytes(_scratch)
    return page


def greeting(name: str) -> str:
    """What the caller reads: the first line of the rendered page."""
    page = render(name)
    return page[: page.index(b"!") + 1].decode()
