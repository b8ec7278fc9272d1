"""report.md shows strings from elsewhere (a worker's host name, a refusal reason) as text, never as markup."""

from __future__ import annotations

from markdown_it import MarkdownIt

from loadtests.report.document import Bullets, Paragraph, ReportDoc, Section, Table
from loadtests.report.markdown import render_markdown

HOSTILE = (
    '<img src="http://tracker.example/x.png"> [click](javascript:alert(1)) ![p](http://tracker.example/y.png) '
    "&lt;script&gt; <http://auto.example> \\`<b>escaped tick</b>` \x1b[2J\u202eevil\r"
)


def _html(doc: ReportDoc) -> str:
    return MarkdownIt("commonmark").enable("table").render(render_markdown(doc))


def test_hostile_text_renders_as_the_same_text() -> None:
    doc = ReportDoc(f"run {HOSTILE}", HOSTILE, (Section("s", HOSTILE, (
        Paragraph(f"worker {HOSTILE} refused"), Bullets((HOSTILE,)),
        Table("t", ("host", "reason"), ((HOSTILE, "wrong token | bad"),), caption=HOSTILE))),))
    html = _html(doc)
    assert "<img" not in html and "<a " not in html and "<b>" not in html and "<http" not in html
    assert "&lt;script&gt;" not in html  # the entity stays the characters it was sent as
    assert "&amp;lt;script&amp;gt;" in html
    assert "\x1b" not in html and "\u202e" not in html and "\r" not in html
    assert "\\x1b[2J" in html and "\\u202eevil" in html  # shown, escaped


def test_the_reports_own_marks_still_work() -> None:
    md = render_markdown(ReportDoc("t", "s", (Section("s", "S", (
        Paragraph("run `gil-lab compare` for **both**; p95 < 500 ms & more"),
        Table("t", ("a",), (("`x|y`",),)))),)))
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<code>gil-lab compare</code>" in html and "<strong>both</strong>" in html
    assert "p95 &lt; 500 ms &amp; more" in html
