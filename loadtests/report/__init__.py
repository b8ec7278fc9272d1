"""The report document and its renderers: HTML, Markdown, charts, terminal.

Renderers are handed an :class:`~loadtests.analysis.Analysis` and compute nothing of
their own: from ``loadtests.analysis`` they import only the records and constants of
``loadtests.analysis.figures`` (an import-linter contract holds them to it).
"""

from loadtests.report.build import ReportPaths, build_report, write_report
from loadtests.report.diff_text import render_diff
from loadtests.report.document import ReportDoc
from loadtests.report.html import render_html
from loadtests.report.markdown import render_markdown
from loadtests.report.terminal import render_terminal

__all__ = [
    "ReportDoc",
    "ReportPaths",
    "build_report",
    "render_diff",
    "render_html",
    "render_markdown",
    "render_terminal",
    "write_report",
]
