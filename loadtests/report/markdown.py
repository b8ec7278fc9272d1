"""Render a ReportDoc as Markdown, with charts as PNG files beside it."""

from __future__ import annotations

from loadtests.report.document import Bullets, Chart, Paragraph, ReportDoc, Table


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


def render_markdown(doc: ReportDoc) -> str:
    out = [f"# {doc.title}", "", doc.subtitle, ""]
    for i, s in enumerate(doc.sections, 1):
        out += [f"## {i} {s.title}", ""]
        for b in s.blocks:
            if isinstance(b, Paragraph):
                out.append(b.text)
            elif isinstance(b, Bullets):
                out.extend(f"- {item}" for item in b.items)
            elif isinstance(b, Table):
                out.append(_table(b))
            elif isinstance(b, Chart):
                out.append(f"![{b.caption}]({b.png})")
            else:
                raise TypeError(f"unknown report block {type(b).__name__}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"
