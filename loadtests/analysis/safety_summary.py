"""summary.json's ``safety`` object: the checks' races, and the crashes, hangs and memory growth of the run.

The races are the safety record's own (``SafetyRecord.summary``). Crashes and hangs come
from every window that carries one and from the soak; memory from the growth fitted to
each interpreter's soak. The object is written whenever a run holds any of them, so a
crash in a run of the lab's own app is in summary.json too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.analysis.memory_growth import memory_growth
from loadtests.results.records import InFlightRequest, RunRecord
from loadtests.results.records.safety import CrashSummary, HangSummary, MemorySummary, SafetySummary
from loadtests.results.records.soak import SoakCheck

BUILTIN_APP = "app.main:app"


def endpoints(requests: Sequence[InFlightRequest]) -> tuple[str, ...]:
    """The endpoints of ``requests``, the one with most requests first."""
    counts = Counter(r.endpoint for r in requests)
    return tuple(name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _found(run: RunRecord, kind: str) -> list[tuple[str, str, str | None, Any]]:
    """``(interpreter, where, cell id, report)`` of every window and soaked server holding a ``crash`` or ``hang``."""
    soak = soak_of(run)
    return [*((c.config.interpreter, c.config.label, c.id, getattr(c, kind)) for c in run.cells
              if getattr(c, kind) is not None),
            *((s.interpreter, "soak", None, getattr(s, kind)) for s in (soak.series if soak is not None else ())
              if getattr(s, kind) is not None)]


def crash_entries(run: RunRecord) -> list[CrashSummary]:
    return [CrashSummary(interpreter=interpreter, where=where, cell=cell, endpoints=endpoints(crash.in_flight),
                         fatal=crash.fatal, traceback=crash.traceback)
            for interpreter, where, cell, crash in _found(run, "crash")]


def hang_entries(run: RunRecord) -> list[HangSummary]:
    return [HangSummary(interpreter=interpreter, where=where, cell=cell, endpoints=endpoints(hang.in_flight),
                        bound_s=hang.bound_s, stacks=hang.stacks)
            for interpreter, where, cell, hang in _found(run, "hang")]


def soak_of(run: RunRecord) -> SoakCheck | None:
    soak = run.safety.soak if run.safety is not None else None
    return soak if isinstance(soak, SoakCheck) else None


def growths(run: RunRecord) -> tuple[MemoryGrowth, ...]:
    """Each soaked interpreter's memory growth (none without a soak)."""
    soak = soak_of(run)
    return () if soak is None else tuple(memory_growth(s) for s in soak.series)


def memory_entry(g: MemoryGrowth) -> MemorySummary:
    return MemorySummary(interpreter=g.interpreter, measure=g.measure, slope_mb_per_1000=g.slope_mb_per_1000,
                         ci_low=g.ci_low, ci_high=g.ci_high, grows=g.grows, plateau_s=g.plateau_s, requests=g.requests,
                         threads_start=g.threads_start, threads_end=g.threads_end)


def safety_summary(run: RunRecord, memory: Sequence[MemoryGrowth]) -> SafetySummary | None:
    """The whole object, or None when the run checked nothing and nothing crashed or hung."""
    crashes, hangs = crash_entries(run), hang_entries(run)
    if run.safety is None and not crashes and not hangs:
        return None
    app = run.settings.service.app if run.settings.service is not None else BUILTIN_APP
    base = run.safety.summary() if run.safety is not None else SafetySummary(app=app, responses=(), tests=())
    return replace(base, crashes=tuple(crashes), hangs=tuple(hangs), memory=tuple(memory_entry(g) for g in memory))
