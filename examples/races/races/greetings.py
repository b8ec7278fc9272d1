"""Greetings rendered into one shared scratch buffer: race number one.

``render`` reuses one module-level ``bytearray`` for every page instead of building
its own, an old habit meant to spare allocations: it writes the greeting, then the
rest of the page, then copies the page out. Each step is one operation on the buffer
and none calls Python code or loops, so with the GIL no other thread runs between
the first and the last: the race never shows on 3.14. On 3.14t two requests really
run at once; one writes its greeting while the other is copying its page out, and a
caller gets someone else's greeting.

The fix: a local buffer (``page = bytearray(...)`` inside ``render``), or none at all.
"""

from __future__ import annotations

#: The rest of the rendered page: big enough that copying the page takes a while.
FILLER = b"." * 4_194_304
HEADER = 64  # bytes kept for the greeting line
_scratch = bytearray(HEADER + len(FILLER))


def render(name: str) -> bytes:
    """The page for ``name``, built in the shared buffer (unsafe without the GIL)."""
    header = f"Hello, {name}!".encode().ljust(HEADER)  # the caller's own work, before the shared buffer
    _scratch[:HEADER] = header
    _scratch[HEADER:] = FILLER
    return bytes(_scratch)


def greeting(name: str) -> str:
    """What the caller reads: the page's greeting line."""
    return render(name)[:HEADER].rstrip().decode()
