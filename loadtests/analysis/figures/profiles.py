"""Both native profiles of a headline comparison side by side, as the analysis hands them down.

Computed by ``profile_diff.py``: CPU per request by cause and by native function on each
interpreter, and the difference, 3.14t minus 3.14.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.core.native_causes import cause_family
from loadtests.results.records import NativeProfile

GIL, FT = "3.14", "3.14t"


@dataclass(frozen=True)
class CauseDelta:
    cause: str
    gil_share: float | None
    ft_share: float | None
    gil_ms: float | None  # CPU ms per request
    ft_ms: float | None

    @property
    def delta_ms(self) -> float | None:
        if self.ft_ms is None and self.gil_ms is None:
            return None
        return (self.ft_ms or 0.0) - (self.gil_ms or 0.0)


@dataclass(frozen=True)
class FunctionDelta:
    function: str
    library: str  # "interpreter" for either interpreter's binary
    cause: str
    gil_ms: float | None  # None: not among 3.14's hottest functions
    ft_ms: float | None

    @property
    def delta_ms(self) -> float:
        return (self.ft_ms or 0.0) - (self.gil_ms or 0.0)


@dataclass(frozen=True)
class ProfilePair:
    """The two profiles of one headline comparison (either may be missing or failed)."""

    scenario: str
    server: str
    comparison_id: str
    gil: NativeProfile | None
    ft: NativeProfile | None
    causes: tuple[CauseDelta, ...]
    functions: tuple[FunctionDelta, ...]  # the largest differences, 3.14t minus 3.14

    def usable(self, interpreter: str) -> bool:
        """Whether that side's profile was taken, with samples to read."""
        profile = self.ft if interpreter == FT else self.gil
        return profile is not None and profile.error is None and profile.samples > 0

    def share(self, interpreter: str, cause: str) -> float | None:
        """The share of ``cause`` (a family: ``extension`` sums every library) in one side's window."""
        profile = self.ft if interpreter == FT else self.gil
        if profile is None or not self.usable(interpreter):
            return None
        return round(sum(c.share for c in profile.causes if cause_family(c.cause) == cause), 4)

    def ms(self, interpreter: str, cause: str) -> float | None:
        profile = self.ft if interpreter == FT else self.gil
        if profile is None or not self.usable(interpreter):
            return None
        found = [c.cpu_ms_per_request for c in profile.causes if cause_family(c.cause) == cause
                 and c.cpu_ms_per_request is not None]
        return round(sum(found), 4) if found else (0.0 if profile.requests else None)
