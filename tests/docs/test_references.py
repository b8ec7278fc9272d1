"""No dangling references: Markdown links, and the docs/, scenarios/ and docker/ paths code comments cite.

Every link in the README and docs/ (and the other README files) must reach a file, and
an anchor a heading of it. Every ``docs/…``, ``scenarios/…`` or ``docker/…`` path in
the comments and docstrings of the code (and in the strings of the lab's own code, which
users see in messages) must exist. Paths with placeholders (``<run-id>``, ``{name}``,
``*``) are patterns, not references, and are skipped.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

from tests.docs.markdown import REPO, anchors, links, pages

CODE_DIRS = ("loadtests", "app", "scenarios", "docker", "tests")
USER_FACING = ("loadtests", "app", "scenarios", "docker")  # their strings reach users too
PATH = re.compile(r"(?<![\w./-])((?:docs|scenarios|docker)/[\w./-]*[\w/])(.{0,2})")
PLACEHOLDER_NEXT = set("<{*$[")  # a pattern, not a path: results/<run-id>, docs/{page}
IMAGE_TAG = re.compile(r"^:\S")  # docker/dockerfile:1 names an image


def tracked(*dirs: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *dirs], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / line for line in out.splitlines() if (REPO / line).is_file()]


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_reaches_a_file_and_heading(page: Path) -> None:
    broken = []
    for number, target in links(page):
        if re.match(r"^[a-z][a-z+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"line {number}: {target} (no {destination})")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"line {number}: {target} (no heading #{anchor} in {destination.name})")
    assert broken == [], f"{page.relative_to(REPO)}: " + "; ".join(broken)


def _python_texts(path: Path, with_strings: bool) -> list[str]:
    """Comments and docstrings of a Python file, and with ``with_strings`` every string literal."""
    source = path.read_text()
    texts = [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            texts.append(ast.get_docstring(node) or "")
        elif with_strings and isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    return texts


def _texts(path: Path) -> list[str]:
    if path.suffix == ".py":
        return _python_texts(path, with_strings=path.relative_to(REPO).parts[0] in USER_FACING)
    if path.suffix == ".json" or path.parts[-2:-1] == ("fixtures",):
        return []  # schemas and recorded data, not prose
    return [path.read_text(errors="replace")]


def cited_paths(text: str) -> list[str]:
    return [match.group(1).rstrip(".") for match in PATH.finditer(text)
            if match.group(2)[:1] not in PLACEHOLDER_NEXT and not IMAGE_TAG.match(match.group(2))]


@pytest.mark.slow
def test_cited_paths_exist() -> None:
    missing = sorted({f"{path.relative_to(REPO)}: {cited}" for path in tracked(*CODE_DIRS)
                      for text in _texts(path) for cited in cited_paths(text) if not (REPO / cited).exists()})
    assert missing == []


def test_the_path_reader_finds_what_it_should() -> None:
    assert cited_paths("see docs/setup.md, and docker/k8s/.") == ["docs/setup.md", "docker/k8s/"]
    assert cited_paths("results/<run-id>/ and scenarios/<name>_load.py, docs/{page}") == []
    assert cited_paths("tests/docker/test_docker.py and ./docs/app.md") == []
    assert cited_paths("# syntax=docker/dockerfile:1") == []


def test_nothing_cites_a_design_document_users_do_not_have() -> None:
    name = "DESIGN" + ".md"  # spelled apart so this file does not cite it either
    citing = [str(p.relative_to(REPO)) for p in tracked(".") if p.suffix not in (".txt",)
              and name in p.read_text(errors="replace")]
    assert citing == []
