"""The report as data: sections of paragraphs, tables and charts, before any format.

``report.py`` builds one ``ReportDoc``; ``report_html`` and ``report_md`` render it.
Paragraph text may use two inline marks, ```code``` and ``**bold**``, which each
renderer translates (or strips, on a terminal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    id: str  # stable element id (tests and browsers look it up)
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    row_classes: tuple[str, ...] = ()  # one CSS class per row, or empty


@dataclass(frozen=True)
class Chart:
    id: str  # "chart-<name>"
    caption: str
    svg: str  # inline <svg> element
    png: str  # path relative to the run directory, e.g. "charts/throughput.png"


@dataclass(frozen=True)
class Code:
    """Text shown as it is, in a fixed-width block: a traceback, every thread's stack."""

    text: str
    caption: str = ""


CardBlock = Paragraph | Bullets | Table | Chart | Code


@dataclass(frozen=True)
class Card:
    """A box that reads on its own: one scenario's decision in the summary (no nested cards)."""

    id: str
    title: str
    blocks: tuple[CardBlock, ...]
    tone: str = ""  # the decision, for a colour: move, stay, not-yet (faster, slower, ... without a decision)


Block = CardBlock | Card


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReportDoc:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    # Shown first and unnumbered, so the numbered sections keep their numbers.
    summary: Section | None = None


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def slug(name: str) -> str:
    """``3.14t vs 3.14`` -> ``3-14t-vs-3-14``: a name made safe for an element id, a class or a file stem."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "col"


def plain(text: str) -> str:
    """Text without inline marks, for a terminal."""
    return _CODE.sub(r"\1", _BOLD.sub(r"\1", text))
