"""Load specs: how a generic Locust user should call a drop-in route.

A drop-in module may export ``LOAD``, a list of :class:`LoadRequest`. ``GET
/lab/loads`` serves them all (see :func:`LoadRequest.to_json`) and the lab's generic
scenario picks requests by weight, so a team gets a load test without writing a
locustfile. Fields are checked when the request is built, so a bad spec fails the
module's import and start-up names the file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import LoadSpecError

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
QueryValue = str | int | float | bool


@dataclass(frozen=True)
class LoadRequest:
    """One request of a load test, picked in proportion to ``weight``.

    Send at most one body: ``json`` (any JSON-able value, sent as
    ``application/json``) or ``body`` (``str`` or ``bytes``, sent with
    ``content_type``). ``name`` groups the request in Locust's statistics and
    defaults to ``"METHOD path"``. ``expect`` is the status code that counts as
    success.
    """

    path: str
    method: str = "GET"
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    json: Any = None
    body: str | bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    weight: int = 1
    name: str | None = None
    expect: int = 200

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", str(self.method).upper())
        _check(isinstance(self.path, str) and self.path.startswith("/"), f"path must start with '/', got {self.path!r}")
        _check("?" not in self.path, f"put query parameters in query=, not in path {self.path!r}")
        _check(self.method in METHODS, f"method must be one of {sorted(METHODS)}, got {self.method!r}")
        _check(
            isinstance(self.weight, int) and not isinstance(self.weight, bool) and self.weight >= 1,
            f"weight must be an integer >= 1, got {self.weight!r}",
        )
        _check(
            isinstance(self.expect, int) and 100 <= self.expect <= 599,
            f"expect must be an HTTP status, got {self.expect!r}",
        )
        _check(
            isinstance(self.query, Mapping)
            and all(isinstance(k, str) and isinstance(v, QueryValue) for k, v in self.query.items()),
            "query must map names to str, int, float or bool values",
        )
        _check(
            isinstance(self.headers, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()),
            "headers must map names to string values",
        )
        _check(self.json is None or self.body is None, "give either json= or body=, not both")
        _check(self.body is None or isinstance(self.body, str | bytes), "body must be str or bytes")
        _check(self.body is None or bool(self.content_type), "body= needs content_type=")
        if self.json is not None:
            try:
                json.dumps(self.json, allow_nan=False)
            except (TypeError, ValueError) as error:
                raise LoadSpecError(f"json= is not JSON-serialisable: {error}") from None

    @property
    def label(self) -> str:
        """The name Locust reports this request under."""
        return self.name or f"{self.method} {self.path}"

    def to_json(self, module: str) -> dict[str, Any]:
        """The wire form served by ``GET /lab/loads``; bytes bodies travel as base64.

        ``module`` is the drop-in's short name (its file stem), the key that
        ``LAB_LOAD_MODULE`` and ``gil-lab compare --scenario`` match.
        """
        text = self.body if isinstance(self.body, str) else None
        raw = base64.b64encode(self.body).decode() if isinstance(self.body, bytes) else None
        content_type = self.content_type or ("application/json" if self.json is not None else None)
        return {
            "module": module,
            "name": self.label,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "json": self.json,
            "body": text,
            "body_base64": raw,
            "content_type": content_type,
            "weight": self.weight,
            "expect": self.expect,
        }


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise LoadSpecError(message)
