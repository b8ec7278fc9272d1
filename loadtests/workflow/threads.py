"""``gil-lab threads``: the HTTP-free microbenchmark on its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loadtests.measure.microbench import run_microbench
from loadtests.provision.provisioning import load_interpreters
from loadtests.results.records import Microbench


def threads(settings: Mapping[str, Any], progress: Callable[[str], None]) -> Microbench:
    return run_microbench(load_interpreters(), settings, progress)
