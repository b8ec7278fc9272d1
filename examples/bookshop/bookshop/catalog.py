"""The catalogue: reproducible books generated at import, so every process serves the same data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

ADJECTIVES = ("Silent", "Crimson", "Hidden", "Last", "Broken", "Golden", "Quiet", "Northern", "Lost", "Burning",
              "Iron", "Paper", "Glass", "Wild", "Distant", "Hollow", "Frozen", "Secret", "Bright", "Endless")
NOUNS = ("River", "Garden", "Empire", "Harbour", "Orchard", "Lantern", "Kingdom", "Engine", "Forest", "Library",
         "Island", "Mirror", "Voyage", "Archive", "Machine", "Festival", "Compass", "Season", "Signal", "Bridge")
TOPICS = ("history", "science", "travel", "cooking", "fantasy", "crime", "poetry", "economics", "music", "nature",
          "philosophy", "sport")
AUTHORS = ("Ada Brennan", "Tomas Okafor", "Mina Sato", "Luca Ferri", "Ines Moreau", "Jonas Berg", "Priya Rao",
           "Omar Haddad", "Elena Novak", "Sam Whitfield")
BOOKS = 20_000


@dataclass(frozen=True)
class Book:
    id: int
    title: str
    author: str
    year: int
    price_cents: int
    tags: frozenset[str]


def _draw(state: int) -> tuple[int, int]:
    """One step of a 64-bit linear congruential generator: (new state, a 31-bit value)."""
    state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
    return state, state >> 33


@cache
def books() -> tuple[Book, ...]:
    result = []
    state = 2024
    for number in range(1, BOOKS + 1):
        values = []
        for _ in range(7):
            state, value = _draw(state)
            values.append(value)
        title = f"The {ADJECTIVES[values[0] % 20]} {NOUNS[values[1] % 20]} of {NOUNS[values[2] % 20]}s"
        tags = frozenset({TOPICS[values[3] % 12], TOPICS[values[4] % 12], TOPICS[values[5] % 12]})
        result.append(Book(number, f"{title} {number}", AUTHORS[values[6] % 10], 1950 + values[3] % 75,
                           499 + values[4] % 4500, tags))
    return tuple(result)


@cache
def titles() -> tuple[str, ...]:
    return tuple(book.title for book in books())


def book(book_id: int) -> Book | None:
    return books()[book_id - 1] if 1 <= book_id <= BOOKS else None
