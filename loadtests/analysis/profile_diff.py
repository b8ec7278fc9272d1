"""Both profiles of a headline comparison side by side: where 3.14t spends more CPU per request than 3.14.

Per cause and per native function: CPU milliseconds per request on each interpreter (the
window's samples ÷ the sampling rate ÷ its requests) and the difference, largest first.
The interpreters' binaries are matched by role (``python3.14`` and ``python3.14t`` are
both "the interpreter"). A function outside one side's stored list (its hottest
functions) counts as 0 there and is marked, since it was at most as hot as that list's
last entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.core.native_causes import cause_family
from loadtests.results.records import NativeProfile, RunRecord

GIL, FT = "3.14", "3.14t"
TOP_DIFFERENCES = 12


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

    def share(self, interpreter: str, cause: str) -> float | None:
        """The share of ``cause`` (a family: ``extension`` sums every library) in one side's window."""
        profile = self.ft if interpreter == FT else self.gil
        if not usable(profile):
            return None
        assert profile is not None
        return round(sum(c.share for c in profile.causes if cause_family(c.cause) == cause), 4)

    def ms(self, interpreter: str, cause: str) -> float | None:
        profile = self.ft if interpreter == FT else self.gil
        if not usable(profile):
            return None
        assert profile is not None
        found = [c.cpu_ms_per_request for c in profile.causes if cause_family(c.cause) == cause
                 and c.cpu_ms_per_request is not None]
        return round(sum(found), 4) if found else (0.0 if profile.requests else None)


def usable(profile: NativeProfile | None) -> bool:
    return profile is not None and profile.error is None and profile.samples > 0


def library_role(library: str) -> str:
    return "interpreter" if library.startswith(("python3", "libpython3")) else library


def _causes(gil: NativeProfile | None, ft: NativeProfile | None) -> tuple[CauseDelta, ...]:
    sides = [p if usable(p) else None for p in (gil, ft)]
    names = list(dict.fromkeys(c.cause for p in sides if p is not None for c in p.causes))
    out = []
    for name in names:
        found = [next((c for c in p.causes if c.cause == name), None) if p is not None else None for p in sides]
        out.append(CauseDelta(name, *(None if c is None else c.share for c in found),
                              *(None if c is None else c.cpu_ms_per_request for c in found)))
    return tuple(sorted(out, key=lambda d: -(d.delta_ms or 0.0)))


def _functions(gil: NativeProfile | None, ft: NativeProfile | None) -> tuple[FunctionDelta, ...]:
    if not usable(gil) or not usable(ft):
        return ()
    assert gil is not None and ft is not None
    by_side = [{(f.function, library_role(f.library)): f for f in p.functions} for p in (gil, ft)]
    keys = list(dict.fromkeys([*by_side[1], *by_side[0]]))
    out = []
    for key in keys:
        g, f = by_side[0].get(key), by_side[1].get(key)
        cause = (f or g).cause  # type: ignore[union-attr]  # one of them holds the key
        out.append(FunctionDelta(key[0], key[1], cause, None if g is None else g.cpu_ms_per_request,
                                 None if f is None else f.cpu_ms_per_request))
    return tuple(sorted(out, key=lambda d: -d.delta_ms)[:TOP_DIFFERENCES])


def profile_pairs(run: RunRecord) -> list[ProfilePair]:
    """One pair per profiled comparison, in the order the run took them."""
    out = []
    for comparison_id in dict.fromkeys(p.comparison_id for p in run.profiles):
        mine: Sequence[NativeProfile] = [p for p in run.profiles if p.comparison_id == comparison_id]
        gil = next((p for p in mine if p.interpreter == GIL), None)
        ft = next((p for p in mine if p.interpreter == FT), None)
        first = mine[0]
        out.append(ProfilePair(first.scenario, first.server, comparison_id, gil, ft, _causes(gil, ft),
                               _functions(gil, ft)))
    return out
