"""Render a ReportDoc as one self-contained HTML file: inline CSS and SVG, no scripts, no links out."""

from __future__ import annotations

import html
import re

from loadtests.report.document import Bullets, Chart, Paragraph, ReportDoc, Section, Table

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px;
       margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { margin-bottom: 0; } .subtitle { color: #555; margin-top: .2rem; }
nav ol { columns: 2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
table.data { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: 13px; width: 100%; }
table.data caption { text-align: left; font-weight: 600; padding: .3rem 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: .25rem .45rem; text-align: left; vertical-align: top; }
table.data th { background: #f5f5f5; } table.data tr:nth-child(even) td { background: #fbfbfb; }
tr.reproduced td.verdict { color: #1a7f37; font-weight: 600; }
tr.partly td.verdict { color: #9a6700; font-weight: 600; }
tr.not-reproduced td.verdict { color: #cf222e; font-weight: 600; }
tr.not-measured td.verdict { color: #6e7781; }
tr.inconclusive td.verdict { color: #9a6700; }
tr.invalid td { color: #cf222e; }
figure.chart { margin: 1rem 0; } figure.chart svg { max-width: 100%; height: auto; }
figure.chart figcaption { color: #555; font-size: 13px; }
code { background: #f3f3f3; padding: 0 .25rem; border-radius: 3px; }
"""

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> str:
    """Escape, then turn ``code`` and ``**bold**`` marks into elements."""
    out = html.escape(text, quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "col"


def _table(t: Table) -> str:
    head = "".join(f"<th scope=\"col\">{inline(c)}</th>" for c in t.columns)
    body = []
    for i, row in enumerate(t.rows):
        cls = t.row_classes[i] if i < len(t.row_classes) else ""
        cells = "".join(
            f"<td class=\"{_slug(t.columns[j])}\">{inline(v)}</td>"
            for j, v in enumerate(row)
        )
        body.append(f"<tr class=\"{html.escape(cls)}\">{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    caption = f"<caption>{inline(t.caption)}</caption>" if t.caption else ""
    return (f"<table class=\"data\" id=\"{html.escape(t.id)}\">{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _block(b: object) -> str:
    if isinstance(b, Paragraph):
        return f"<p>{inline(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Chart):
        return (f"<figure class=\"chart\" id=\"{html.escape(b.id)}\">{b.svg}"
                f"<figcaption>{inline(b.caption)}</figcaption></figure>")
    raise TypeError(f"unknown report block {type(b).__name__}")


def _section(n: int, s: Section) -> str:
    body = "\n".join(_block(b) for b in s.blocks)
    return f"<section id=\"{html.escape(s.id)}\">\n<h2>{n} {inline(s.title)}</h2>\n{body}\n</section>"


def render_html(doc: ReportDoc) -> str:
    nav = "".join(f"<li><a href=\"#{html.escape(s.id)}\">{inline(s.title)}</a></li>" for s in doc.sections)
    sections = "\n".join(_section(i, s) for i, s in enumerate(doc.sections, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(doc.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{inline(doc.title)}</h1><p class="subtitle">{inline(doc.subtitle)}</p></header>
<nav aria-label="sections"><ol>{nav}</ol></nav>
<main>
{sections}
</main>
</body>
</html>
"""
