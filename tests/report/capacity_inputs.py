"""A capacity record built by hand, as the scenario cards receive it from a capacity search.

The card asks for any object with these attributes (``loadtests.report.card.CapacityFigure``);
tests build them here so the card can be checked with and without capacity figures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CapacityAtSlo:
    scenario: str
    server: str
    interpreter: str
    configuration: str
    max_rps_at_slo: float | None
    bracket_low: float | None
    bracket_high: float | None
    p95_ms_at_max: float | None
    rps_per_core: float | None
    rps_per_gb: float | None
    limited_by: str | None = None
