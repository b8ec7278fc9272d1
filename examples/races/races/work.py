"""The CPU work every request does first, so requests overlap in the server's threads."""

from __future__ import annotations


def ticket(text: str, rounds: int = 6_000) -> int:
    """A deterministic number for ``text``: plain Python arithmetic, about 2 ms of CPU."""
    value = 2166136261
    for i in range(rounds):
        value = ((value ^ (ord(text[i % len(text)]) + i)) * 16777619) % 2**32
    return value
