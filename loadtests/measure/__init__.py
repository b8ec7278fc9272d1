"""Servers, load generation, sampling, validity and the runner that measures a plan.

What the workflow uses, importable from here::

    from loadtests.measure import Runner, RunOptions

    runner = Runner.start(RunOptions(plan, out_parent), interpreters)   # writes the first run.json
    run_dir = runner.run_cells()                                        # every comparison of the plan

- ``Runner`` (``runner.py``) measures a plan's comparisons, scenario by scenario; the pieces
  it ties together are modules of their own: the server pool (``server_pool.py``), one window
  (``window_measurement.py``), the paired loop and its stopping rules (``comparison_loop.py``),
  the capacity loop (``capacity_loop.py``), the warm-up (``warmup.py``);
- ``run_microbench`` (``microbench.py``): the HTTP-free threads microbenchmark;
- servers (``servers.py``), the Locust session (``load_session.py``), the master for workers
  from other machines (``master.py``), sampling, validity and the window statistics are
  imported from their modules.
"""

from __future__ import annotations

from loadtests.measure.capacity_loop import CapacityComparison
from loadtests.measure.comparison_loop import Decision, PairedComparison, StopRule, complete_blocks, fixed_pairs
from loadtests.measure.microbench import run_microbench
from loadtests.measure.run_record import RunOptions
from loadtests.measure.runner import Runner
from loadtests.measure.server_pool import CELL_DIR_ENV, ServerLauncher, ServerPool
from loadtests.measure.window_measurement import WindowBench, measure_window

__all__ = [
    "CELL_DIR_ENV",
    "CapacityComparison",
    "Decision",
    "PairedComparison",
    "RunOptions",
    "Runner",
    "ServerLauncher",
    "ServerPool",
    "StopRule",
    "WindowBench",
    "complete_blocks",
    "fixed_pairs",
    "measure_window",
    "run_microbench",
]
