"""Render a ReportDoc as Markdown, with charts as PNG files beside it."""

from __future__ import annotations

import re

from loadtests.core.untrusted import printable
from loadtests.report.document import Bullets, Card, Chart, Code, Paragraph, ReportDoc, Section, Table

# The report's text uses two marks of its own, `code` and **bold**; everything else is literal.
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
# What would turn literal text into markup: the start of raw HTML or an autolink (not "p95 < 500 ms"),
# an entity, a link or an image, a backslash (which could escape the backtick that opens a code span).
_MARKUP = re.compile(r"(<(?=[A-Za-z/!?])|&(?=[A-Za-z#])|[\[\]\\])")


def _text(v: str) -> str:
    """Text as Markdown that shows exactly it: a host name or a reason from elsewhere cannot inject HTML,
    a link or an image, nor control characters (code spans are literal already)."""
    parts = _CODE_SPAN.split(printable(v, keep="\n", limit=None))
    return "".join(part if i % 2 else _MARKUP.sub(r"\\\1", part) for i, part in enumerate(parts))


def _cell(v: str) -> str:
    return _text(v).replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"*{_text(t.caption)}*")
        lines.append("")
    lines.append("| " + " | ".join(_cell(c) for c in t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in t.rows)
    return "\n".join(lines)


def _block(b: object) -> list[str]:
    """The block's lines, followed by a blank line."""
    if isinstance(b, Paragraph):
        out = [_text(b.text)]
    elif isinstance(b, Bullets):
        out = [f"- {_text(item)}" for item in b.items]
    elif isinstance(b, Table):
        out = [_table(b)]
    elif isinstance(b, Chart):
        out = [f"![{_cell(b.caption)}]({b.png})"]
    elif isinstance(b, Code):
        fence = "````" if "```" in b.text else "```"
        text = printable(b.text, keep="\n", limit=None).rstrip("\n")
        out = [*([f"*{_text(b.caption)}*", ""] if b.caption else []), f"{fence}text", text, fence]
    elif isinstance(b, Card):
        out = [f"### {_text(b.title)}", ""] + [line for x in b.blocks for line in _block(x)][:-1]
    else:
        raise TypeError(f"unknown report block {type(b).__name__}")
    return [*out, ""]


def _section(heading: str, s: Section) -> list[str]:
    return [_text(heading), "", *(line for b in s.blocks for line in _block(b))]


def render_markdown(doc: ReportDoc) -> str:
    out = [f"# {_text(doc.title)}", "", _text(doc.subtitle), ""]
    if doc.summary is not None:
        out += _section(f"## {doc.summary.title}", doc.summary)
    for i, s in enumerate(doc.sections, 1):
        out += _section(f"## {i} {s.title}", s)
    return "\n".join(out).rstrip() + "\n"
