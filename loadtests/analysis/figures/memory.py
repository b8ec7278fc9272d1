"""How one interpreter's server memory moved through a soak: the readings, the plateau, the growth and its interval."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemoryGrowth:
    """The growth after the allocator's plateau, per 1,000 requests (``analysis/memory_growth.py`` has the method)."""

    interpreter: str
    measure: str  # "USS", or "RSS" when USS could not be read
    requests: int  # completed during the soak
    slope_mb_per_1000: float | None  # None: too few readings after the plateau (see ``why_unknown``)
    ci_low: float | None
    ci_high: float | None
    grows: bool  # the interval lies above zero
    plateau_s: float | None  # seconds into the soak where the fit starts
    plateau_mb: float | None  # the memory there
    end_mb: float | None  # the last reading
    threads_start: int | None  # threads at the plateau and at the end: a pool that keeps adding threads grows too
    threads_end: int | None
    readings: tuple[tuple[float, float], ...]  # (seconds, MB): the whole series, for the chart
    fitted: tuple[tuple[float, float], ...]  # (seconds, MB): the fitted line over the part after the plateau
    why_unknown: str | None = None

    @property
    def known(self) -> bool:
        return self.slope_mb_per_1000 is not None
