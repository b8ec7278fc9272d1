"""Statistics, comparisons, claims, capacity and diffs: pure functions over a run's typed record.

The public surface: :func:`analyse` turns a :class:`~loadtests.results.records.RunRecord`
into one :class:`Analysis`, the value every consumer (terminal, reports, summary.json,
gates, history) is handed; :func:`diff_runs` compares two analysed runs. The records
they return are in :mod:`loadtests.analysis.figures`, the only part of this package a
renderer may import.
"""

from loadtests.analysis.diff import diff_runs
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS, CapacityPlan
from loadtests.analysis.figures.claims import ClaimsTable
from loadtests.analysis.figures.configs import Comparison, ConfigSummary
from loadtests.analysis.figures.diagnosis import ScenarioDiagnosis
from loadtests.analysis.figures.diff import RunDiff
from loadtests.analysis.figures.stats import InsufficientData, MeanCI, PairedRatio, Speedup
from loadtests.analysis.run_analysis import analyse

__all__ = [
    "DEFAULT_SLO_MS",
    "Analysis",
    "CapacityPlan",
    "ClaimsTable",
    "Comparison",
    "ConfigSummary",
    "InsufficientData",
    "MeanCI",
    "PairedRatio",
    "RunDiff",
    "ScenarioDiagnosis",
    "Speedup",
    "analyse",
    "diff_runs",
]
