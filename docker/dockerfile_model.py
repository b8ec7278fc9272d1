"""Read a Dockerfile into stages, enough to check what the lab relies on.

hadolint checks style and shell; it cannot know that the images must build CPython
with the lab's own configure flags, run as a non-root user or answer a health check.
This small reader gives ``docker/validate.py`` and the tests the stages, their base
stages and their instructions, with line continuations joined the way BuildKit
joins them. It understands only what ``docker/Dockerfile`` uses; it is no general
Dockerfile parser.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    """One instruction: upper-case keyword, its arguments as written, its first line."""

    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    """A ``FROM ... [AS name]`` block. ``base`` is the image or stage it starts from."""

    name: str
    base: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """Instructions with continuations joined; comment lines inside them are dropped."""
    found: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continued instruction: BuildKit skips such lines there
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        joined = " ".join(p for p in parts if p)
        keyword, _, args = joined.partition(" ")
        found.append(Instruction(keyword.upper(), args.strip(), start))
        parts = []
    if parts:
        raise ValueError(f"line {start}: the last instruction ends with a line continuation")
    return found


def parse(text: str) -> list[Stage]:
    """The stages in order. Instructions before the first FROM (global ARGs) are dropped."""
    stages: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else f"#{len(stages)}"
            stages.append(Stage(name=name, base=words[0], line=instruction.line))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def global_args(text: str) -> dict[str, str]:
    """The ``ARG NAME=default`` lines before the first FROM (an ARG without a default maps to "")."""
    found: dict[str, str] = {}
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, default = instruction.args.partition("=")
            found[name.strip()] = default.strip()
    return found


def read(path: Path) -> dict[str, Stage]:
    """The stages of the Dockerfile at ``path``, by name."""
    return {stage.name: stage for stage in parse(path.read_text())}


def chain(stages: dict[str, Stage], target: str) -> list[Stage]:
    """``target`` and the stages it is built on, nearest first (external images excluded)."""
    found: list[Stage] = []
    name: str | None = target
    while name in stages and len(found) <= len(stages):
        found.append(stages[name])
        name = stages[name].base
    return found


def effective(stages: dict[str, Stage], target: str, keyword: str) -> Instruction | None:
    """The instruction of ``keyword`` that applies in ``target``: its own last one, else a base's."""
    for stage in chain(stages, target):
        matching = stage.all(keyword)
        if matching:
            return matching[-1]
    return None


def env(stages: dict[str, Stage], target: str) -> dict[str, str]:
    """Environment variables set by ENV in ``target`` and its bases (``KEY=value`` form)."""
    values: dict[str, str] = {}
    for stage in reversed(chain(stages, target)):
        for instruction in stage.all("ENV"):
            for word in shlex.split(instruction.args):
                key, sep, value = word.partition("=")
                if sep:
                    values[key] = value
    return values


def exec_form(instruction: Instruction | None) -> list[str] | None:
    """The JSON-array arguments of a CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for the shell form."""
    if instruction is None:
        return None
    args = instruction.args
    if instruction.keyword == "HEALTHCHECK":
        parts = re.split(r"(?:^|\s)CMD\s", args, maxsplit=1)
        args = parts[1].strip() if len(parts) == 2 else ""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


_CASE_ARM = re.compile(r"(\S+)\)\s*opt=\(([^)]*)\)\s*;;")
_CONFIGURE = re.compile(r"\./configure\s+([^&;|]*)")


def optimization_flags(stage: Stage) -> dict[str, list[str]]:
    """The ``case "$LAB_CPYTHON_OPTIMIZED"`` arms of ``stage``: value -> the ``opt`` array."""
    arms: dict[str, list[str]] = {}
    for instruction in stage.all("RUN"):
        if "LAB_CPYTHON_OPTIMIZED" not in instruction.args:
            continue
        for value, words in _CASE_ARM.findall(instruction.args):
            if value != "*":
                arms[value] = shlex.split(words)
    return arms


def configure_invocations(stage: Stage) -> list[list[str]]:
    """Every ``./configure ...`` in ``stage``'s RUNs, as words (shell quotes removed)."""
    return [shlex.split(match) for i in stage.all("RUN") for match in _CONFIGURE.findall(i.args)]


def configure_flags(configure_words: list[str], opt: list[str]) -> list[str]:
    """The flags of one configure call without ``--prefix``, with ``"${opt[@]}"`` expanded."""
    flags: list[str] = []
    for word in configure_words:
        if word == "${opt[@]}":
            flags += opt
        elif not word.startswith("--prefix="):
            flags.append(word)
    return flags
