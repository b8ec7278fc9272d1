"""Distribution names as packaging compares them (PEP 503), wherever the lab matches one."""

from __future__ import annotations

import re


def normalise(name: str) -> str:
    """``Pydantic_Core`` -> ``pydantic-core``: runs of ``-``, ``_`` and ``.`` become one ``-``, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()
