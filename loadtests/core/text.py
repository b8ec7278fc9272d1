"""Plain-text tables for terminals: rows in, lines out, nothing about benchmarks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def text_table(rows: Sequence[Sequence[object]], indent: str = "") -> list[str]:
    """Left-aligned columns two spaces apart; the first row is the header. ``None`` shows as ``-``."""
    cells = [["-" if value is None else str(value) for value in row] for row in rows]
    if not cells:
        return []
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [indent + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def table_with_header(headers: Sequence[object], rows: Iterable[Sequence[object]], indent: str = "") -> list[str]:
    return text_table([list(headers), *(list(r) for r in rows)], indent)
