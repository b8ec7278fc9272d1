"""Durations as people type them: ``90``, ``90s``, ``2m``, ``1m30s``, ``1h``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms]?)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ValueError with an example when it is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    parts = list(_PART.finditer(compact))
    if not compact or "".join(p.group(0) for p in parts) != compact or (
            len(parts) > 1 and any(not p.group(2) for p in parts)):
        raise ValueError(f"{text!r} is not a duration: give seconds (120), or units (2m, 1m30s, 1h)")
    return sum(float(p.group(1)) * _SECONDS[p.group(2)] for p in parts)
