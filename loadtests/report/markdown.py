"""Render a ReportDoc as Markdown, with charts as PNG files beside it."""

from __future__ import annotations

from loadtests.report.document import Bullets, Card, Chart, Code, Paragraph, ReportDoc, Section, Table


def _cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"*{t.caption}*")
        lines.append("")
    lines.append("| " + " | ".join(_cell(c) for c in t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in t.rows)
    return "\n".join(lines)


def _block(b: object) -> list[str]:
    """The block's lines, followed by a blank line."""
    if isinstance(b, Paragraph):
        out = [b.text]
    elif isinstance(b, Bullets):
        out = [f"- {item}" for item in b.items]
    elif isinstance(b, Table):
        out = [_table(b)]
    elif isinstance(b, Chart):
        out = [f"![{b.caption}]({b.png})"]
    elif isinstance(b, Code):
        fence = "````" if "```" in b.text else "```"
        out = [*([f"*{b.caption}*", ""] if b.caption else []), f"{fence}text", b.text.rstrip("\n"), fence]
    elif isinstance(b, Card):
        out = [f"### {b.title}", ""] + [line for x in b.blocks for line in _block(x)][:-1]
    else:
        raise TypeError(f"unknown report block {type(b).__name__}")
    return [*out, ""]


def _section(heading: str, s: Section) -> list[str]:
    return [heading, "", *(line for b in s.blocks for line in _block(b))]


def render_markdown(doc: ReportDoc) -> str:
    out = [f"# {doc.title}", "", doc.subtitle, ""]
    if doc.summary is not None:
        out += _section(f"## {doc.summary.title}", doc.summary)
    for i, s in enumerate(doc.sections, 1):
        out += _section(f"## {i} {s.title}", s)
    return "\n".join(out).rstrip() + "\n"
