"""Answers compared: JSON structurally (path by path), anything else as bytes.

A JSON answer is a tree; two answers differ at the paths where their values differ,
written as JSONPath-like strings: ``$.items[2].price``. A team marks the paths that
legitimately change between identical requests (a timestamp, a request id) with
patterns in the same notation (:func:`compile_pattern`):

- ``$.generated_at`` or ``generated_at``: that key of the top-level object;
- ``$.items[*].etag``: ``etag`` in every item of ``items``;
- ``$.*.id``: ``id`` under any key of the top-level object;
- ``$..request_id``: ``request_id`` at any depth.

A pattern covers the value it names and everything under it. Before answers from
different servers are compared, each server's own address (``http://127.0.0.1:PORT``)
is replaced with one placeholder, so an absolute URL in an answer does not count as
a difference.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from loadtests.core.errors import ConfigError

SERVER_PLACEHOLDER = b"http://SERVER"
#: What :func:`parse_json` answers for a body that is not JSON.
NOT_JSON: Any = object()
#: How much of a value a diff line shows.
VALUE_CHARS = 80
_TOKEN = re.compile(r"\.\.|\.\*|\.([A-Za-z_][\w-]*)|\[\*\]|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


@dataclass(frozen=True)
class Difference:
    """One path where two JSON answers differ (``expected`` is the reference's value)."""

    path: str  # concrete: $.items[2].price
    generic: str  # list indices as [*]: $.items[*].price
    expected: Any
    got: Any
    what: str = "value"  # value, missing, extra, length, type

    def line(self) -> str:
        if self.what == "missing":
            return f"{self.path}: missing (expected {_short(self.expected)})"
        if self.what == "extra":
            return f"{self.path}: unexpected (got {_short(self.got)})"
        if self.what == "length":
            return f"{self.path}: {len(self.expected)} items expected, got {len(self.got)}"
        return f"{self.path}: expected {_short(self.expected)}, got {_short(self.got)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def normalise(body: bytes, base_urls: Iterable[str]) -> bytes:
    """The body with every server address replaced by one placeholder."""
    for url in base_urls:
        body = body.replace(url.encode(), SERVER_PLACEHOLDER)
        body = body.replace(url.split("://", 1)[-1].encode(), SERVER_PLACEHOLDER[7:])
    return body


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``, or :data:`NOT_JSON`."""
    if not body or body[:1] not in b'{["-0123456789tfn':
        return NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON



def _key(key: str) -> str:
    return f".{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", key) else f"[{json.dumps(key)}]"


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def differences(expected: Any, got: Any, path: str = "$") -> Iterator[Difference]:
    """Every path where ``got`` differs from ``expected`` (both parsed JSON)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in expected:
            child = path + _key(str(key))
            if key not in got:
                yield Difference(child, _generic(child), expected[key], None, "missing")
            else:
                yield from differences(expected[key], got[key], child)
        for key in got:
            if key not in expected:
                child = path + _key(str(key))
                yield Difference(child, _generic(child), None, got[key], "extra")
    elif isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            yield Difference(path, _generic(path), expected, got, "length")
            return
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            yield from differences(a, b, f"{path}[{index}]")
    elif type(expected) is not type(got) and not (_number(expected) and _number(got)):
        yield Difference(path, _generic(path), expected, got, "type")
    elif expected != got:
        yield Difference(path, _generic(path), expected, got)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A path pattern (see the module docstring) as a regex over concrete paths; ConfigError when malformed."""
    text = pattern.strip()
    if not text.startswith("$"):
        text = "$" + ("" if text.startswith(("[", ".")) else ".") + text
    out, position = ["\\$"], 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConfigError(f"the JSON path {pattern!r} is not understood at {text[position:]!r}: write "
                              "$.key.sub, $.items[*].field, $.*.field or $..field (docs/safety.md)")
        token = match.group(0)
        if token == "..":
            out.append(r"(?:\.[^.\[]+|\[[^\]]+\])*")
            if position + 2 >= len(text):
                raise ConfigError(f"the JSON path {pattern!r} ends with '..': name the key, e.g. $..request_id")
            position += 2
            if text[position].isalpha() or text[position] == "_":
                text = text[:position] + "." + text[position:]  # $..key reads as $.. then .key
            continue
        if token == ".*":
            out.append(r"(?:\.[^.\[]+|\[\"(?:[^\"\\]|\\.)*\"\])")
        elif token == "[*]":
            out.append(r"\[\d+\]")
        elif match.group(1) is not None:
            out.append(re.escape(_key(match.group(1))))
        elif match.group(2) is not None:
            out.append(re.escape(token))
        else:
            out.append(re.escape(_key(json.loads(f'"{match.group(3)}"'))))
        position = match.end()
    return re.compile("".join(out) + r"(?:$|[.\[])")


def covered(path: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    """Whether a concrete path is one a pattern names, or lies under one."""
    return any(p.match(path) for p in patterns)


def strip(value: Any, patterns: Sequence[re.Pattern[str]], path: str = "$") -> Any:
    """``value`` without the paths the patterns cover (for comparing answers as a set)."""
    if not patterns:
        return value
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            child_path = path + _key(str(key))
            if not covered(child_path, patterns):
                out[key] = strip(child, patterns, child_path)
        return out
    if isinstance(value, list):
        return [strip(child, patterns, f"{path}[{i}]") for i, child in enumerate(value)
                if not covered(f"{path}[{i}]", patterns)]
    return value


def canonical(status: int | None, body: bytes, patterns: Sequence[re.Pattern[str]]) -> tuple[int | None, str]:
    """An answer as a hashable value, excluded paths left out: what a set of answers is made of."""
    value = parse_json(body)
    if value is NOT_JSON:
        return status, "bytes:" + body.decode("utf-8", "replace")
    return status, "json:" + json.dumps(strip(value, patterns), sort_keys=True, ensure_ascii=False)


def text_diff(expected: bytes, got: bytes, lines: int = 12) -> str:
    """A unified diff of two non-JSON answers, at most ``lines`` lines."""
    a = expected.decode("utf-8", "replace").splitlines()
    b = got.decode("utf-8", "replace").splitlines()
    if a == b:
        return f"the bytes differ ({len(expected)} expected, {len(got)} got) in line endings or encoding"
    diff = [line.rstrip("\n") for line in difflib.unified_diff(a, b, "expected", "got", n=1, lineterm="")]
    return "\n".join(diff[:lines] + (["…"] if len(diff) > lines else []))


def snippet(body: bytes, chars: int = 120) -> str:
    text = body.decode("utf-8", "replace").replace("\n", "⏎")
    return text if len(text) <= chars else text[:chars - 1] + "…"
