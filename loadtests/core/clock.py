"""Wall-clock time stamps as the lab records them (UTC, ISO 8601, seconds)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """``2026-12-02T06:11:28Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp() -> str:
    """``20261202T061128Z``: sortable, and safe in a directory name."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
