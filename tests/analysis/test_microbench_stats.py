"""microbench_stats.py: means, speedups and efficiency of microbenchmark points, checked by hand."""

from __future__ import annotations

import pytest

from loadtests.analysis.microbench_stats import microbench_figures, single_thread_ratio, summarize
from loadtests.report.microbench_text import render_microbench
from loadtests.results.records import LoadAverage, Microbench, MicrobenchPoint


def _pt(variant: str, threads: int, ops_s: float, repeat: int = 0, gil: bool | None = None) -> MicrobenchPoint:
    gil = variant != "3.14t" if gil is None else gil
    invalid = variant == "3.14t" and gil
    return MicrobenchPoint(workload="pure", variant=variant, threads=threads, repeat=repeat, seconds=0.5, ops=10,
                           ops_per_s=ops_s, cpu_cores=None, gil_enabled=gil, valid=not invalid,
                           invalid_reason="the GIL was enabled in a free-threaded point" if invalid else None)


def test_summarize_by_hand_and_invalid_points_excluded() -> None:
    points = [_pt("3.14t", 1, v, i) for i, v in enumerate((10.0, 10.0, 10.0))]
    points += [_pt("3.14t", 2, v, i) for i, v in enumerate((19.0, 20.0, 21.0))]
    points.append(_pt("3.14t", 2, 2.0, 3, gil=True))  # GIL came back on: not a free-threaded figure
    points += [_pt("3.14", 1, 11.0, i) for i in range(2)] + [_pt("3.14", 2, 11.0, i) for i in range(2)]
    rows = {(r.variant, r.threads): r for r in summarize(points, cores=2)}
    two = rows[("3.14t", 2)]
    assert two.n == 3 and two.ops_per_s == pytest.approx(20.0)
    assert two.speedup == pytest.approx(2.0) and two.efficiency == pytest.approx(1.0)
    # baseline sd 0: the Fieller interval is the candidate's t interval divided by 10: 2 ± 4.303 * 1/sqrt(3) / 10
    assert two.speedup_ci == pytest.approx((2 - 0.248426, 2 + 0.248426), abs=1e-4)
    assert rows[("3.14", 2)].speedup == pytest.approx(1.0)
    assert single_thread_ratio(points, "pure").ratio == pytest.approx(10 / 11)
    section = Microbench(usable_cores=2, thread_counts=(1, 2), repeats=4, workloads=("pure",),
                         variants=("3.14", "3.14t"), seconds_per_point=0.5, started_at="", finished_at="",
                         elapsed_s=1.0, load_average=LoadAverage(None, None), interpreters={}, points=tuple(points))
    text = render_microbench(microbench_figures(section))
    assert "1 invalid point(s), excluded" in text and "0.91× the speed of 3.14" in text


def test_the_noise_warning_counts_other_processes_not_the_benchmark() -> None:
    from dataclasses import replace

    section = Microbench(usable_cores=2, thread_counts=(1, 2), repeats=1, workloads=("pure",), variants=("3.14",),
                         seconds_per_point=0.5, started_at="", finished_at="", elapsed_s=1.0,
                         load_average=LoadAverage(3.9, 4.0), interpreters={}, points=(), others_cores=0.1)
    # the benchmark itself kept both cores busy (load average ~4), others used 0.1 core: not noisy
    quiet = microbench_figures(section)
    assert not quiet.noisy and "warning" not in render_microbench(quiet)
    busy = microbench_figures(replace(section, others_cores=0.9))
    assert busy.noisy and "other processes used 0.90 of the 2 cores" in render_microbench(busy)
