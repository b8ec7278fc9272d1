"""Compare two runs figure by figure (``gil-lab diff RUN_A RUN_B``).

Every gated figure of both runs (``analysis.gated_figures``: each configuration's
throughput, matched by ``config_id``) is compared as B ÷ A with an interval built from
each run's server instances (``analysis.run_change``), and gets a verdict, like pyperf's
``compare_to``. A ratio is only meaningful when the two runs measured the same thing:
controlled conditions that differ (``analysis.pooling``) are listed, and the gate refuses
such runs; other differences in the environment (interpreter version or build, package
versions, the lab's commit) are listed as warnings before any figure. Both runs come
analysed: their configurations and comparisons are those of :func:`loadtests.analysis.analyse`.
"""

from __future__ import annotations

from typing import Any

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import ConfigSummary
from loadtests.analysis.figures.diff import ConfigDiff, RunDiff
from loadtests.analysis.figures.run_change import FigureChange
from loadtests.analysis.gated_figures import THROUGHPUT, gated_figures
from loadtests.analysis.pooling import unlike
from loadtests.analysis.ratio_diff import ratio_diffs
from loadtests.analysis.run_change import changes
from loadtests.results.records import InterpreterInfo, RunRecord


def _interpreter_facts(info: InterpreterInfo) -> dict[str, Any]:
    """What can differ between two runs' interpreters; a build is shown by its tarball hash."""
    return {"version": info.version, "configure args": info.configure_args,
            "build": info.build.tarball_sha256 if info.build else None, "free-threaded flag": info.free_threaded}


def environment_warnings(a: RunRecord, b: RunRecord) -> list[str]:
    """Every difference in the environment that can move throughput on its own."""
    out = []
    for key, what in (("cpu_model", "CPU model"), ("usable_cores", "usable cores"), ("os", "OS")):
        va, vb = getattr(a.machine, key), getattr(b.machine, key)
        if va != vb:
            out.append(f"{what} differs: {va!r} vs {vb!r}")
    labels = sorted(set(a.interpreters) | set(b.interpreters))
    for label in labels:
        ia, ib = a.interpreters.get(label), b.interpreters.get(label)
        if ia is None or ib is None:
            out.append(f"interpreter {label} is only in run {'A' if ib is None else 'B'}")
            continue
        fa, fb = _interpreter_facts(ia), _interpreter_facts(ib)
        for what in fa:
            if fa[what] != fb[what]:
                out.append(f"{label} {what} differs: {fa[what]!r} vs {fb[what]!r}")
        pa, pb = ia.packages, ib.packages
        changed = [f"{p} {pa.get(p, 'absent')} → {pb.get(p, 'absent')}" for p in sorted(set(pa) | set(pb))
                   if pa.get(p) != pb.get(p)]
        if changed:
            out.append(f"{label} packages differ: {', '.join(changed)}")
    sa, sb = a.settings, b.settings
    for key, what in (("warmup_s", "warm-up"), ("duration_s", "measured window")):
        if getattr(sa, key) != getattr(sb, key):
            out.append(f"{what} differs: {getattr(sa, key)} s vs {getattr(sb, key)} s")
    dirty = [name for name, run in (("A", a), ("B", b)) if run.machine.git_dirty]
    if dirty:
        out.append(f"run {' and '.join(dirty)} had uncommitted changes in the lab tree: the app code may differ "
                   "even where the commit is the same")
    if a.machine.git_sha != b.machine.git_sha:
        out.append(f"lab commit differs: {str(a.machine.git_sha)[:10]} vs {str(b.machine.git_sha)[:10]} "
                   "(expected when comparing code changes)")
    return out


def _diff_config(ca: ConfigSummary, cb: ConfigSummary, change: FigureChange | None) -> ConfigDiff:
    p95 = cb.p95.mean / ca.p95.mean if ca.p95 and cb.p95 and ca.p95.mean > 0 else None
    if not ca.rps_values or not cb.rps_values:
        side = "A" if not ca.rps_values else "B"
        return ConfigDiff(ca.config_id, ca, cb, None, p95, f"no valid repeat in run {side}")
    return ConfigDiff(ca.config_id, ca, cb, change, p95, None if change else "no positive throughput to compare")


def diff_runs(a: Analysis, b: Analysis) -> RunDiff:
    """Match configurations by config_id and compare every gated figure of B against A's; then the paired
    ratios both runs hold."""
    ca = {c.config_id: c for c in a.configs}
    cb = {c.config_id: c for c in b.configs}
    both = [cid for cid in ca if cid in cb]
    found = changes(gated_figures(a), gated_figures(b))
    throughput = {c.key: c for c in found if c.a.measure == THROUGHPUT}
    return RunDiff(a.run, b.run, tuple(_diff_config(ca[cid], cb[cid], throughput.get(cid)) for cid in both),
                   tuple(cid for cid in ca if cid not in cb), tuple(cid for cid in cb if cid not in ca),
                   tuple(environment_warnings(a.run, b.run)), tuple(ratio_diffs(a.comparisons, b.comparisons)),
                   tuple(found), tuple(unlike(a.run, b.run)))
