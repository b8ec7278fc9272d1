"""sampling.py: busy cores and peaks over a window, and readings merged with the client's."""

from __future__ import annotations

import os

import pytest

from loadtests.measure.sampling import TreeSample, merge_samples, sample_tree, usage_in_window


def reading(t: float, cpu: float, rss_mb: float = 100.0, threads: int = 8,
            per_process: tuple[tuple[int, float], ...] = ()) -> TreeSample:
    return TreeSample(t, cpu, int(rss_mb * 2**20), threads, 1, per_process)


def test_busy_cores_are_cpu_time_over_wall_time_inside_the_window() -> None:
    series = [reading(0.0, 0.0), reading(1.0, 1.9, 120, 10, ((1, 0.9), (2, 1.0))),
              reading(2.0, 3.9, 150, 12, ((1, 1.8), (2, 2.1))), reading(9.0, 99.0)]
    use = usage_in_window(series, start=1.0, end=2.0)
    assert use is not None
    assert use.cpu_cores == pytest.approx(2.0) and use.rss_mb_peak == pytest.approx(150.0)
    assert use.threads_peak == 12 and use.process_cores == {1: pytest.approx(0.9), 2: pytest.approx(1.1)}
    assert use.max_process_cores == pytest.approx(1.1)
    assert usage_in_window(series, start=5.0, end=6.0) is None  # fewer than two readings inside


def test_merged_samples_pair_each_server_reading_with_the_clients() -> None:
    server = [reading(10.0, 0.0, 100), reading(10.5, 0.5, 101), reading(11.0, 1.5, 102)]
    client = [reading(10.0, 0.2), reading(11.0, 0.3)]
    merged = merge_samples(server, client, origin=10.5)
    assert [s.t for s in merged] == [-0.5, 0.0, 0.5]
    assert [s.server_cpu_cores for s in merged] == [None, 1.0, 2.0]
    assert [s.client_cpu_seconds for s in merged] == [0.2, None, 0.3]
    assert merged[2].server_rss_mb == 102.0


def test_a_real_process_tree_can_be_sampled() -> None:
    sample = sample_tree([os.getpid()])
    assert sample is not None and sample.processes >= 1 and sample.rss_bytes > 0 and sample.threads >= 1
    assert sample_tree([2**22 + 12345]) is None  # no such process


def test_threads_are_grouped_by_name_and_by_what_the_layer_said_they_are() -> None:
    from loadtests.measure.sampling import thread_groups

    first = TreeSample(0.0, 0.0, 0, 4, 1, thread_cpu=((1, "python", 0.0), (2, "ThreadPoolExecu", 0.0),
                                                       (3, "ThreadPoolExecu", 0.0), (4, "python", 0.0)))
    last = TreeSample(2.0, 3.0, 0, 4, 1, thread_cpu=((1, "python", 0.4), (2, "ThreadPoolExecu", 1.2),
                                                      (3, "ThreadPoolExecu", 1.0), (4, "python", 0.4)))
    kinds = {1: "event-loop", 2: "executor", 3: "executor"}  # 4 started after the layer answered
    groups = {(g.name, g.kind): (g.threads, g.cores) for g in thread_groups(first, last, 2.0, kinds)}
    assert groups == {("ThreadPoolExecu", "executor"): (2, 1.1), ("python", "event-loop"): (1, 0.2),
                      ("python", "unknown"): (1, 0.2)}
    assert {g.kind for g in thread_groups(first, last, 2.0)} == {None}  # nobody asked the layer
