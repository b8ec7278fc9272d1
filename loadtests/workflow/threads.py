"""``gil-lab threads``: the HTTP-free microbenchmark on its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loadtests.analysis.figures.microbench import MicrobenchFigures
from loadtests.analysis.microbench_stats import microbench_figures
from loadtests.measure.microbench import run_microbench
from loadtests.provision.provisioning import load_interpreters


def threads(settings: Mapping[str, Any], progress: Callable[[str], None]) -> MicrobenchFigures:
    """Measure the microbenchmark on both interpreters and summarise it (its section is ``.section``)."""
    return microbench_figures(run_microbench(load_interpreters(), settings, progress))
