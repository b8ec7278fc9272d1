"""The claims table C1–C6 and the GIL incidents of a run, as ``analysis.claims`` finds them."""

from __future__ import annotations

from dataclasses import dataclass

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
NOT_MEASURED = "not measured"
INCONCLUSIVE = "inconclusive"  # measured, but the interval is too wide to decide


@dataclass(frozen=True)
class ClaimRow:
    id: str
    claim: str
    published: str
    measured: str
    cores: int
    verdict: str
    status: str  # REPRODUCED | PARTLY | NOT_REPRODUCED | INCONCLUSIVE | NOT_MEASURED (for styling and tests)


@dataclass(frozen=True)
class GilIncident:
    """A free-threaded configuration whose GIL was on although PYTHON_GIL did not ask for it."""

    config_id: str
    scenario: str
    server: str
    modules: tuple[str, ...]
    cells: int
    deliberate: bool  # a "trap" scenario that exists to provoke this
    rps_gil_on: float | None = None  # mean rps of its (invalid) repeats, for the collapse it shows
    references: tuple[tuple[str, float], ...] = ()  # valid configs with the same server settings: (label, rps)


@dataclass(frozen=True)
class ClaimsTable:
    rows: tuple[ClaimRow, ...]
    incidents: tuple[GilIncident, ...]

    def row(self, claim_id: str) -> ClaimRow:
        return next(r for r in self.rows if r.id == claim_id)
