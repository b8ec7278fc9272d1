"""Render a ReportDoc as one self-contained HTML file: inline CSS and SVG, no scripts, no links out."""

from __future__ import annotations

import html
import re

from loadtests.report.document import Bullets, Card, Chart, Code, Paragraph, ReportDoc, Section, Table, slug

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
h1, .subtitle, main p, main li { overflow-wrap: anywhere; }
div.table-scroll { overflow-x: auto; max-width: 100%; }
@media (max-width: 600px) { body { padding: .6rem .8rem 2rem; } h1 { font-size: 1.5rem; } nav ol { columns: 1; } }
section.summary { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); }
section.summary > h2, section.summary > p { grid-column: 1 / -1; margin-bottom: 0; }
article.card { min-width: 0; border: 1px solid #d0d7de; border-top: 5px solid #8c959f; border-radius: 6px;
               padding: .6rem .9rem .4rem; overflow-wrap: anywhere; }
article.card h3 { margin: 0 0 .3rem; font-size: 1.2rem; }
article.card p, article.card ul { margin: .4rem 0; } article.card ul { padding-left: 1.2rem; }
article.card.faster, article.card.move { border-top-color: #1a7f37; }
article.card.slower, article.card.stay { border-top-color: #cf222e; }
article.card.not-significant, article.card.mixed, article.card.unknown, article.card.not-yet { border-top-color: #9a6700; }
figure.code { margin: .6rem 0 1rem; } figure.code figcaption { color: #555; font-size: 13px; }
figure.code pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: .5rem .7rem;
                  overflow-x: auto; max-width: 100%; font-size: 12px; line-height: 1.35; margin: .2rem 0; }
article.card code { white-space: nowrap; }  /* a command stays whole: "gil-lab capacity", not "gil-" */
article.card figure.chart { margin: .5rem 0; }
article.card svg.forest { display: block; width: 100%; max-width: 30rem; height: auto; }
"""

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> str:
    """Escape, then turn ``code`` and ``**bold**`` marks into elements."""
    out = html.escape(text, quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def _table(t: Table) -> str:
    head = "".join(f"<th scope=\"col\">{inline(c)}</th>" for c in t.columns)
    body = []
    for i, row in enumerate(t.rows):
        cls = t.row_classes[i] if i < len(t.row_classes) else ""
        cells = "".join(
            f"<td class=\"{slug(t.columns[j])}\">{inline(v)}</td>"
            for j, v in enumerate(row)
        )
        body.append(f"<tr class=\"{html.escape(cls)}\">{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    caption = f"<caption>{inline(t.caption)}</caption>" if t.caption else ""
    # a wide table scrolls inside its own box, so a phone-sized page never scrolls sideways
    return (f"<div class=\"table-scroll\"><table class=\"data\" id=\"{html.escape(t.id)}\">{caption}"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


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
    if isinstance(b, Code):
        caption = f"<figcaption>{inline(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure class=\"code\">{caption}<pre><code>{html.escape(b.text, quote=False)}</code></pre></figure>"
    if isinstance(b, Card):
        tone = f" {html.escape(b.tone)}" if b.tone else ""
        body = "\n".join(_block(x) for x in b.blocks)
        return f"<article class=\"card{tone}\" id=\"{html.escape(b.id)}\">\n<h3>{inline(b.title)}</h3>\n{body}\n</article>"
    raise TypeError(f"unknown report block {type(b).__name__}")


def _section(n: int, s: Section) -> str:
    body = "\n".join(_block(b) for b in s.blocks)
    return f"<section id=\"{html.escape(s.id)}\">\n<h2>{n} {inline(s.title)}</h2>\n{body}\n</section>"


def _summary(s: Section | None) -> str:
    """The unnumbered section that opens the report, before the table of contents."""
    if s is None:
        return ""
    body = "\n".join(_block(b) for b in s.blocks)
    return f"<section id=\"{html.escape(s.id)}\" class=\"summary\">\n<h2>{inline(s.title)}</h2>\n{body}\n</section>\n"


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
{_summary(doc.summary)}<nav aria-label="sections"><ol>{nav}</ol></nav>
<main>
{sections}
</main>
</body>
</html>
"""
