"""What the documentation tests read: the pages, their links, their headings and their code.

A small reader for the Markdown the lab writes (fenced code blocks, inline code, inline
links, ATX headings), not a general Markdown parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def pages() -> list[Path]:
    """The README, every page under docs/, and the README files elsewhere in the tree."""
    found = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    found += sorted(p for p in REPO.glob("*/**/README.md") if not p.is_relative_to(REPO / "docs")
                    and not any(part.startswith(".") or part == "results" for part in p.relative_to(REPO).parts))
    return found


@dataclass(frozen=True)
class Snippet:
    """A piece of code a page shows: a line of a fenced block (continuations joined) or an inline span."""

    page: Path
    line: int
    text: str


def _split(page: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(prose lines, code lines), each with its line number."""
    prose, code = [], []
    fenced = False
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        (code if fenced else prose).append((number, line))
    return prose, code


def snippets(page: Path) -> Iterator[Snippet]:
    prose, code = _split(page)
    pending, start = "", 0
    for number, line in code:
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield Snippet(page, start, pending + line)
        pending = ""
    # Inline code can wrap inside a paragraph: join the paragraph's lines first.
    paragraph: list[tuple[int, str]] = []
    for number, line in [*prose, (0, "")]:
        if line.strip():
            paragraph.append((number, line))
            continue
        text = " ".join(part for _, part in paragraph)
        for match in INLINE_CODE.finditer(text):
            yield Snippet(page, paragraph[0][0], match.group(2))
        paragraph = []


def links(page: Path) -> Iterator[tuple[int, str]]:
    """Link targets in the page's prose (code blocks and inline code are not links)."""
    prose, _ = _split(page)
    for number, line in prose:
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            yield number, match.group(1)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in _split(page)[0]:
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found
