"""The curves a capacity run's chart draws: every point inside its own interval."""

from __future__ import annotations

from pathlib import Path

from loadtests.analysis.capacity_curves import capacity_curves
from loadtests.results.store import load_run

STORED = Path(__file__).parents[1] / "fixtures" / "run-json" / "v9" / "capacity-fit.json"  # a real capacity run


def test_every_step_of_a_real_run_lies_inside_its_share_interval() -> None:
    curves = capacity_curves(load_run(STORED))
    assert len(curves) == 3
    steps = [s for c in curves for s in c.steps if s.share is not None]
    assert any(s.share == 0.0 for s in steps) and any(s.share > 0.3 for s in steps)  # both ends are exercised
    for s in steps:
        assert s.share_low is not None and s.share_high is not None
        assert 0.0 <= s.share_low <= s.share <= s.share_high <= 1.0, s


def test_each_curve_carries_its_search_and_fitted_points() -> None:
    for c in capacity_curves(load_run(STORED)):
        assert c.scenario == "json" and c.server == "uvicorn" and c.steps
        assert all(0.0 <= share <= 1.0 for _, share in c.fitted)
