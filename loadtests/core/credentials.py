"""Credentials in URLs and secrets the lab holds: used where needed, never written down.

An ``--app-url`` may carry ``user:password@``. The lab authenticates with it (HTTP Basic,
as Locust does with such a host), but records and prints the URL without it. Every
secret the lab learns (that password, the workers' token) is also registered here, so
:func:`redact` can scrub it from text the lab writes from another program's output
(Locust's own HTML report repeats the host it was given).
"""

from __future__ import annotations

import base64
import urllib.parse

MASK = "***"
_secrets: set[str] = set()


def split_credentials(url: str) -> tuple[str, str | None]:
    """``(url without user:password@, the Authorization header for them or None)``."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode("latin-1", "replace")).decode("ascii")
    return _without_userinfo(parts), f"Basic {token}"


def without_credentials(url: str) -> str:
    """The URL as it may be recorded and shown: no user, no password."""
    return split_credentials(url)[0]


def _without_userinfo(parts: urllib.parse.SplitResult) -> str:
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def keep_secret(value: str | None) -> None:
    """Remember a secret, so :func:`redact` removes it from text written later (short values are ignored)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def keep_url_secrets(url: str) -> None:
    """The password of a URL, as typed and decoded."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        keep_secret(parts.password)
        keep_secret(urllib.parse.unquote(parts.password))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_bytes(data: bytes) -> bytes:
    for secret in sorted(_secrets, key=len, reverse=True):
        data = data.replace(secret.encode(), MASK.encode())
    return data
