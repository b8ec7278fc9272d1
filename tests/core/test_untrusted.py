"""Strings from elsewhere shown as sent: no escape sequence, carriage return or bidi override gets through."""

from __future__ import annotations

from loadtests.core.untrusted import printable


def test_control_and_format_characters_are_shown_escaped() -> None:
    assert printable("worker-1\x1b[2J\r\u202eevil\u200b") == "worker-1\\x1b[2J\\x0d\\u202eevil\\u200b"
    assert printable("line\nnext", keep="\n") == "line\nnext" and printable("line\nnext") == "line\\x0anext"
    assert printable("café 3.14t ÷ ×") == "café 3.14t ÷ ×"  # ordinary text is untouched


def test_long_strings_are_cut_and_anything_becomes_text() -> None:
    assert printable("x" * 500, limit=10) == "x" * 10 + "…"
    assert printable(7) == "7" and printable(None) == "None"
