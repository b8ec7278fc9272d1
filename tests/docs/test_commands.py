"""Every ``gil-lab`` command and flag the README and docs/ show exists in ``--help``.

The commands are read from fenced code and inline code: a shell command whose program
is ``gil-lab`` (after a ``$`` prompt, variable assignments, ``&&`` or ``;``), its
sub-command, and the ``--flags`` that follow on the same line (continuations joined;
comments dropped). The click command tree is what ``--help`` prints, so checking the
tree is checking the help.

Pages may describe an interface that is still being built. Such flags are listed in
PLANNED with the page that shows them; a listed flag that comes to exist fails the test,
so the list cannot outlive the work.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from loadtests.cli.main import main
from tests.docs.markdown import REPO, Snippet, pages, snippets

README_MAX_LINES = 200
#: (page, command, flag) the docs show for features being built; flag "" is a whole command (and all its flags).
PLANNED: set[tuple[str, str, str]] = set()  # nothing in progress: every command the docs show exists
SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\||\$\()\s*")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def invocations(snippet: Snippet) -> Iterator[tuple[str, list[str]]]:
    """(command, flags) of every gil-lab invocation in one line of code."""
    text = re.split(r"\s#\s|\s#$", snippet.text, maxsplit=1)[0]
    for part in SEPARATORS.split(text):
        try:
            words = shlex.split(part, comments=False)
        except ValueError:
            words = part.split()
        while words and (words[0] == "$" or ASSIGNMENT.match(words[0])):
            words = words[1:]
        if not words or not (words[0] == "gil-lab" or words[0].endswith("/gil-lab")):
            continue
        args = words[1:]
        if args and not args[0].startswith("-"):
            command, args = args[0], args[1:]
        else:
            command = ""
        if command and not re.fullmatch(r"[a-z][a-z-]*", command):
            continue  # `gil-lab <command> --help` (a placeholder) or a diagram label such as `gil-lab (control plane)`
        yield command, [a.split("=", 1)[0] for a in args if a.startswith("--")]


def shown() -> list[tuple[str, str, str, str]]:
    """(page name, where, command, flag) for every flag shown, and (…, command, "") for every command."""
    found = []
    for page in pages():
        for snippet in snippets(page):
            for command, flags in invocations(snippet):
                where = f"{page.relative_to(REPO)}:{snippet.line}"
                found += [(page.name, where, command, ""), *((page.name, where, command, f) for f in flags)]
    return found


def known(command: str, flag: str) -> bool:
    target: click.Command | None = main if not command else main.commands.get(command)
    if target is None:
        return False
    if not flag:
        return True
    ctx = click.Context(target)
    options = {opt for param in target.get_params(ctx) for opt in (*param.opts, *param.secondary_opts)}
    return flag in options


def planned(page: str, command: str, flag: str) -> bool:
    return (page, command, flag) in PLANNED or (page, command, "") in PLANNED


def test_the_reader_finds_invocations() -> None:
    line = Snippet(Path("x.md"), 1, "LAB_X=1 .venv/bin/gil-lab compare --preset smoke --slo-ms=200  # note --nope")
    assert list(invocations(line)) == [("compare", ["--preset", "--slo-ms"])]
    assert list(invocations(Snippet(Path("x.md"), 1, "kubectl -n gil-lab get all"))) == []
    assert list(invocations(Snippet(Path("x.md"), 1, "make setup && gil-lab doctor --json"))) == [("doctor", ["--json"])]


def test_every_command_and_flag_the_docs_show_exists() -> None:
    missing = sorted({f"{where}: gil-lab {command} {flag}".rstrip() for page, where, command, flag in shown()
                      if not planned(page, command, flag) and not known(command, flag)})
    assert missing == [], "shown in the docs but not in --help (or add it to PLANNED if it is being built)"


def test_planned_flags_are_still_planned() -> None:
    shown_planned = {(page, command, flag) for page, _, command, flag in shown()}
    built = sorted(f"{page}: gil-lab {command} {flag}" for page, command, flag in PLANNED if known(command, flag))
    assert built == [], "these exist now: remove them from PLANNED"
    stale = sorted(PLANNED - shown_planned)
    assert stale == [], "no page shows these any more: remove them from PLANNED"


def test_the_docs_show_every_command() -> None:
    documented = {command for _, _, command, _ in shown()}
    assert sorted(set(main.commands) - documented) == []


@pytest.mark.parametrize("page", ["README.md"])
def test_the_readme_stays_short(page: str) -> None:
    lines = (REPO / page).read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"{page} has {len(lines)} lines; move detail to docs/"
