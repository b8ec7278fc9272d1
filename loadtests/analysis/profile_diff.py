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

from loadtests.analysis.figures.profiles import FT, GIL, CauseDelta, FunctionDelta, ProfilePair
from loadtests.results.records import NativeProfile, RunRecord

TOP_DIFFERENCES = 12


def usable(profile: NativeProfile | None) -> bool:
    """A profile taken, with samples to read."""
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
