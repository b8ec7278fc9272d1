"""What a team tells the response check not to compare: ``gil-lab-safety.toml`` (docs/safety.md).

The file sits in the app directory (or is given with ``--safety-config``)::

    # fields whose values legitimately change between two identical requests
    [volatile]
    "*" = ["$.request_id"]                       # in every endpoint's answers
    "GET /status" = ["$.generated_at", "$.workers[*].uptime_s"]

    # endpoints whose answers are not repeatable at all: their requests are sent, never compared
    [not_repeatable]
    "GET /lottery" = "draws a random number"

An endpoint is named as the reports name it, ``METHOD /route/{param}`` (the app's
route template, or the Locust request name when the app has no route table); a route
without a method (``/status``) covers every method, and ``*`` every endpoint.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.errors import ConfigError
from loadtests.safety.bodies import compile_pattern

CONFIG_NAME = "gil-lab-safety.toml"
SECTIONS = ("volatile", "not_repeatable")


@dataclass(frozen=True)
class TeamMarks:
    """The volatile fields and non-repeatable endpoints a team declared (none by default)."""

    volatile: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # endpoint key -> JSON path patterns
    not_repeatable: Mapping[str, str] = field(default_factory=dict)  # endpoint key -> why
    path: Path | None = None

    def volatile_for(self, endpoint: str) -> tuple[str, ...]:
        return tuple(p for key, patterns in self.volatile.items() if covers(key, endpoint) for p in patterns)

    def not_repeatable_for(self, endpoint: str) -> str | None:
        return next((why for key, why in self.not_repeatable.items() if covers(key, endpoint)), None)

    def unused(self, endpoints: Sequence[str]) -> list[str]:
        """Keys that name no endpoint of the load (a typo, or an endpoint the load never reached)."""
        keys = [*self.volatile, *self.not_repeatable]
        return [k for k in dict.fromkeys(keys) if k != "*" and not any(covers(k, e) for e in endpoints)]


def covers(key: str, endpoint: str) -> bool:
    """``*``, ``GET /status`` (that method) or ``/status`` (any method) against ``METHOD /route``."""
    if key == "*":
        return True
    if key.startswith("/"):
        return endpoint.split(" ", 1)[-1] == key
    return key == endpoint


def read_marks(path: Path | None, app_dir: Path | None) -> TeamMarks:
    """The team's file: ``path`` when given (it must exist), else ``gil-lab-safety.toml`` in the app directory."""
    if path is None:
        if app_dir is None or not (app_dir / CONFIG_NAME).is_file():
            return TeamMarks()
        path = app_dir / CONFIG_NAME
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"the safety file {path} does not exist: give a TOML file with [volatile] and "
                          "[not_repeatable] tables (docs/safety.md), or leave --safety-config out")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown)}; the file takes [volatile] (endpoint = "
                          "[JSON paths]) and [not_repeatable] (endpoint = \"why\")")
    volatile: dict[str, tuple[str, ...]] = {}
    for key, patterns in (data.get("volatile") or {}).items():
        _check_key(path, key)
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ConfigError(f"{path}: [volatile] {key!r} takes a list of JSON paths, e.g. [\"$.generated_at\"]")
        for pattern in patterns:
            compile_pattern(pattern)  # a clear error now, not in the middle of a check
        volatile[key] = tuple(patterns)
    repeatable: dict[str, str] = {}
    for key, why in (data.get("not_repeatable") or {}).items():
        _check_key(path, key)
        if not isinstance(why, str) or not why.strip():
            raise ConfigError(f"{path}: [not_repeatable] {key!r} takes the reason in words, e.g. \"draws a random "
                              "number\"")
        repeatable[key] = why.strip()
    return TeamMarks(volatile, repeatable, path)


def _check_key(path: Path, key: str) -> None:
    if key != "*" and not re.fullmatch(r"(?:[A-Z]+ )?/\S*", key):
        raise ConfigError(f"{path}: {key!r} does not name an endpoint: write \"GET /route/{{param}}\", \"/route\" "
                          "(every method) or \"*\" (every endpoint)")
