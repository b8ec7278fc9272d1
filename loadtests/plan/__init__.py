"""Presets and scenarios: what a run measures, and in which order.

A preset names a matrix (``load_preset``), command-line overrides narrow or reshape it
(``apply_overrides``), and ``comparisons`` groups its configurations into the paired
comparisons the runner measures.
"""

from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.plan.presets import Overrides, apply_overrides, attach_service, available_presets, load_preset
from loadtests.plan.scenarios import available_scenarios, check_scenario

__all__ = [
    "ComparisonPlan",
    "Overrides",
    "apply_overrides",
    "attach_service",
    "available_presets",
    "available_scenarios",
    "check_scenario",
    "comparisons",
    "load_preset",
]
