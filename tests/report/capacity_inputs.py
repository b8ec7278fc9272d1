"""Capacity figures built by hand, as summary.json lists them, to fill a scenario card without a capacity run."""

from __future__ import annotations

from loadtests.results.records import CapacitySummary


def capacity_at_slo(scenario: str, server: str, interpreter: str, configuration: str, max_rps_at_slo: float | None,
                    bracket_low: float | None, bracket_high: float | None, p95_ms_at_max: float | None,
                    rps_per_core: float | None, rps_per_gb: float | None,
                    limited_by: str | None = None, ci: tuple[float | None, float | None] | None = None
                    ) -> CapacitySummary:
    """``ci``: the fitted search's interval (method fit); without it, a search as runs before intervals made it."""
    return CapacitySummary(scenario=scenario, server=server, interpreter=interpreter, configuration=configuration,
                           config_id=configuration.replace(" ", "/"), slo_ms=500.0, max_rps_at_slo=max_rps_at_slo,
                           bracket_low=bracket_low, bracket_high=bracket_high, p95_ms_at_max=p95_ms_at_max,
                           p95_ci_at_max=None, rps_per_core=rps_per_core, rps_per_gb=rps_per_gb,
                           limited_by=limited_by, method="fit" if ci is not None else "bracket",
                           ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None)
