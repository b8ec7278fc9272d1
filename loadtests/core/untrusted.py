"""Strings the lab did not write (a worker's host name, a server's answer) made safe to show.

A terminal obeys escape sequences, and a file viewer can be fooled by carriage returns
or by Unicode's bidirectional overrides. Before such a string reaches a terminal or a
file, every control or format character in it is replaced by its visible escape
(``\\x1b``, ``\\u202e``), so what is shown is what was sent, and it cannot move the
cursor, rewrite a line or reorder the text around it.
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls and DEL; Cf: format characters (bidi overrides, zero-width); Zl/Zp: line and paragraph breaks
_UNSAFE = ("Cc", "Cf", "Zl", "Zp")


def printable(value: object, keep: str = "", limit: int | None = 200) -> str:
    """``value`` as text with control and format characters escaped, and cut to ``limit`` characters.

    ``keep``: characters left as they are (``"\\n"`` for text that may span lines).
    """
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return "".join(c if c in keep or unicodedata.category(c) not in _UNSAFE else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
