"""Native samples summed per window: by cause (:mod:`loadtests.core.native_causes`), innermost function and thread.

CPU per request is samples ÷ the sampling rate ÷ the requests completed in the window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loadtests.core.native_causes import Frame, classify
from loadtests.measure.native_profile import NativeSample
from loadtests.results.records import CauseShare, FunctionCost, ThreadShare


@dataclass(frozen=True)
class Attribution:
    """One window's samples summed by cause, by innermost function and by kind of thread."""

    causes: tuple[CauseShare, ...]
    functions: tuple[FunctionCost, ...]
    threads: tuple[ThreadShare, ...]


def _per_request(samples: int, frequency_hz: float, requests: int) -> float | None:
    return round(samples / frequency_hz / requests * 1000.0, 4) if requests > 0 else None


def attribute(samples: Sequence[NativeSample], frequency_hz: float, requests: int, kinds: Mapping[int, str],
              top: int = 40) -> Attribution:
    """Shares of the window's samples, and CPU milliseconds per request, by cause, function and thread kind."""
    total = len(samples) or 1
    causes: Counter[str] = Counter()
    functions: Counter[tuple[str, str, str]] = Counter()
    by_kind: Counter[str] = Counter()
    tids: dict[str, set[int]] = {}
    for sample in samples:
        cause = classify(sample.frames)
        causes[cause] += 1
        leaf = sample.frames[0] if sample.frames else Frame("[no stack]", "?", False)
        functions[(leaf.function, leaf.library, cause)] += 1
        kind = kinds.get(sample.tid, sample.comm)
        by_kind[kind] += 1
        tids.setdefault(kind, set()).add(sample.tid)
    return Attribution(
        causes=tuple(CauseShare(cause=c, samples=n, share=round(n / total, 4),
                                cpu_ms_per_request=_per_request(n, frequency_hz, requests))
                     for c, n in causes.most_common()),
        functions=tuple(FunctionCost(function=f, library=lib, cause=c, samples=n, share=round(n / total, 4),
                                     cpu_ms_per_request=_per_request(n, frequency_hz, requests))
                        for (f, lib, c), n in functions.most_common(top)),
        threads=tuple(ThreadShare(kind=k, threads=len(tids[k]), samples=n, share=round(n / total, 4))
                      for k, n in by_kind.most_common()))
