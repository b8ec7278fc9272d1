"""Turn a run's analysis into decisions: report.html and report.md (+ PNG charts).

``write_report(run_dir, analysis)`` writes, into the run directory:

- ``report.html``: one self-contained file, charts inline as SVG, no scripts;
- ``report.md`` with ``charts/*.png``.

It opens with one card per scenario (``card.py``), the decision in one screen, then
the numbered sections, in order: verdict, throughput, scaling, latency, memory, claims C1–C6,
capacity, method and environment. Invalid cells are listed with their reasons and
never averaged in (docs/run-json.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import MIN_POINTS_AMDAHL
from loadtests.analysis.figures.configs import KIND_INTERPRETER, KIND_PROCESSES, Comparison
from loadtests.analysis.figures.stats import PILOT_PAIRS, PairedRatio
from loadtests.core.jsonfile import write_text_atomic
from loadtests.core.wording import format_interval, verdict
from loadtests.report import charts
from loadtests.report.capacity_text import RESOLUTION_AND_UNCERTAINTY, CapacityTables, capacity_tables
from loadtests.report.card import summary_section
from loadtests.report.diagnosis_evidence import probe_blocks, profile_blocks
from loadtests.report.document import Bullets, Chart, Paragraph, ReportDoc, Section, Table
from loadtests.report.html import render_html
from loadtests.report.markdown import render_markdown
from loadtests.report.service_text import diagnosis_blocks, service_blocks
from loadtests.report.verdict import fmt_ci, fmt_eff, fmt_n, fmt_pct, fmt_ratio, verdict_paragraph
from loadtests.results.records import StepFailure

EVENT_LOOP_NOTE = (
    "**Why your own routes may scale less.** FastAPI runs `def` endpoints in anyio's worker threads, but "
    "the event-loop thread parses request bodies, validates declared body models and serialises responses. "
    "That is a serial section per event loop, even on 3.14t. The built-in routes take raw bytes or small "
    "query parameters and do their parsing and heavy work inside the `def` body, so they show the "
    "interpreter's scaling. A route that declares a large Pydantic body or returns a large model spends "
    "more of each request on the loop thread and will scale less; an `async def` route that does CPU work "
    "blocks the loop and does not scale on any interpreter (the `async` scenario is that reference)."
)
PILLOW_NOTE = (
    "Pillow releases the GIL in decode, resize, filters and PNG compression (JPEG encoding to memory "
    "holds it), so image routes scale partly even on 3.14; the stdlib `json` module never releases it. "
    "The lab reports what is measured and does not tune workloads to match a claim."
)


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    charts: tuple[Path, ...]


# --- sections 2-5 ---------------------------------------------------------------------


def _config_table(a: Analysis) -> Table:
    rows = []
    for c in a.configs:
        busy = c.server_cpu_cores.mean if c.server_cpu_cores else None
        per_core = f"{c.rps.mean / busy:.1f}" if c.rps and busy else "—"
        rows.append((c.scenario, c.label, str(c.users), fmt_n(c), fmt_ci(c.rps),
                     format_interval(c.rps.low, c.rps.high, 1) if c.rps else "no valid repeat",
                     f"{busy:.2f}" if busy is not None else "—", per_core,
                     f"{c.client_cpu_cores.mean:.2f}" if c.client_cpu_cores else "—"))
    return Table("throughput-table", ("scenario", "configuration", "users", "valid", "rps (mean ± CI half-width)",
                                      "95% CI (rps)", "server CPU (cores)", "rps per busy core", "client CPU (cores)"),
                 tuple(rows), "Every configuration; only valid repeats are averaged")


def _pairs(c: Comparison) -> str:
    """``8 pairs, ±4.1%`` (paired) or ``3 × 3 repeats`` (a run measured before pairing)."""
    s = c.speedup
    if isinstance(s, PairedRatio):
        return f"{s.n_pairs} pair{'s' * (s.n_pairs != 1)}" + (f", ±{s.precision:.1%}" if s.precision is not None else "")
    return f"{s.n_candidate} × {s.n_baseline} repeats, unpaired"


def _comparison_table(a: Analysis) -> Table:
    rows = []
    for c in a.comparisons:
        cv = "/".join("—" if v is None else f"{v:.0%}" for v in (c.candidate.cv, c.baseline.cv))
        rows.append((c.kind, c.scenario, str(c.users), c.candidate.label, c.baseline.label,
                     fmt_ci(c.candidate.rps), fmt_ci(c.baseline.rps), fmt_ratio(c), _pairs(c), cv,
                     verdict(c.speedup), fmt_eff(c)))
    return Table("comparisons", ("comparison", "scenario", "users", "candidate", "baseline", "candidate rps",
                                 "baseline rps", "ratio (95% CI)", "pairs, precision", "window CV (cand/base)",
                                 "verdict", "efficiency (of ideal)"),
                 tuple(rows), "Speedups: candidate ÷ baseline throughput. Paired: the geometric mean of the "
                              "per-pair ratios, with a t interval on their logs; precision is the interval's "
                              "half-width relative to the ratio")


def _scaling_table(a: Analysis) -> Table:
    rows = []
    for sw in a.sweeps:
        for c in sw.points:
            sp, ideal = sw.speedup(c), sw.ideal(c)
            rows.append((sw.scenario, sw.axis, sw.label, str(sw.x(c)), fmt_ci(c.rps), f"{sp:.2f}×", f"{ideal:.2f}×",
                         f"{sp / ideal:.2f}"))
    return Table("scaling-table", ("scenario", "swept", "configuration", "value", "rps", "speedup vs first",
                                   "ideal", "efficiency (speedup ÷ ideal)"), tuple(rows),
                 f"Sweeps: configurations that differ in one dimension; the ideal counts the cores each point can "
                 f"use (at most {a.run.usable_cores})")


def _microbench_table(a: Analysis) -> Table | None:
    if a.microbench is None or not a.microbench.rows:
        return None
    cores = a.microbench.usable_cores
    rows = []
    for r in a.microbench.rows:
        ci = r.ops_per_s_ci
        ops = "—" if r.ops_per_s is None else (f"{r.ops_per_s:.1f} ± {(ci[1] - ci[0]) / 2:.1f}" if ci
                                               else f"{r.ops_per_s:.1f} (n={r.n})")
        sp = "—" if r.speedup is None else (f"{r.speedup:.2f}× ({format_interval(*r.speedup_ci)})"
                                           if r.speedup_ci else f"{r.speedup:.2f}×")
        eff = "—" if r.efficiency is None else f"{r.efficiency:.2f}"
        cpu = "—" if r.cpu_cores is None else f"{r.cpu_cores:.2f}"
        rows.append((r.workload, r.variant, str(r.threads), ops, sp, eff, cpu))
    return Table("microbench-table", ("workload", "variant", "threads", "ops/s (mean ± CI half-width)",
                                      "speedup vs 1 thread (95% CI)", f"efficiency (÷ min(threads, {cores}))",
                                      "CPU cores the process got"),
                 tuple(rows), "`gil-lab threads` microbenchmark: pure-Python, json and sha256 work in N threads, "
                              "no HTTP; invalid points excluded. Fewer CPU cores than threads (up to the usable "
                              "cores) means other processes held the CPUs")


def _latency_table(a: Analysis) -> Table:
    rows = []
    classes = []
    for c in a.configs:
        over = c.p95 is not None and c.p95.mean >= a.slo_ms
        rows.append((c.scenario, c.label, str(c.users), fmt_ci(c.p50, 0), fmt_ci(c.p95, 0), fmt_ci(c.p99, 0),
                     "over" if over else ("ok" if c.p95 else "—")))
        classes.append("over-slo" if over else "")
    return Table("latency-table", ("scenario", "configuration", "users", "p50 (ms)", "p95 (ms)", "p99 (ms)",
                                   f"p95 vs SLO {a.slo_ms:g} ms"), tuple(rows), "Latency percentiles per configuration",
                 tuple(classes))


def _memory_table(a: Analysis) -> Table:
    rows = []
    same = {c.candidate.config_id: c for c in a.comparisons if c.kind == KIND_INTERPRETER}
    procs = {c.candidate.config_id: c for c in a.comparisons if c.kind == KIND_PROCESSES}
    for c in a.configs:
        s, p = same.get(c.config_id), procs.get(c.config_id)
        rows.append((c.scenario, c.label, str(c.users), fmt_ci(c.pss_mb), fmt_ci(c.rss_mb), fmt_ci(c.uss_mb),
                     fmt_pct(s.memory_ratio) if s else "—",
                     f"{fmt_pct(p.memory_ratio)} (vs {p.baseline.workers} proc)" if p else "—"))
    return Table("memory-table", ("scenario", "configuration", "users", "peak PSS (MB)", "peak RSS (MB)",
                                  "peak USS (MB)", "vs 3.14 same config", "vs 3.14 N processes"), tuple(rows),
                 "Peak memory of the whole server process tree. PSS splits shared pages between the processes that "
                 "share them, so N workers are not counted N times; the comparisons use PSS (RSS for runs "
                 "recorded before PSS was sampled). RSS counts shared pages once per process; USS only pages no "
                 "other process shares")


# --- sections 6-8 ---------------------------------------------------------------------


def _claims_blocks(a: Analysis) -> list[Any]:
    t = a.claims
    rows = tuple((r.id, r.claim, r.published, r.measured, str(r.cores), r.verdict) for r in t.rows)
    classes = tuple(r.status.replace(" ", "-") for r in t.rows)
    blocks: list[Any] = [
        Paragraph("Each published claim about free-threaded 3.14t (PEP 703, PEP 779 and the measurements they cite) checked against this run. Speedup claims are bounded by the "
                  "cores: on fewer cores than the published figure used, a near-ideal result reads **partly**, "
                  "with its parallel efficiency (speedup ÷ min(threads, usable cores))."),
        Table("claims", ("claim", "statement", "published", "measured here", "cores", "verdict"), rows,
              "Claims C1–C6", classes),
    ]
    if t.incidents:
        blocks.append(Table("gil-incidents", ("configuration", "re-enabled by", "cells", "kind",
                                              "rps with the GIL on (not averaged in)", "same server settings, valid"),
                            tuple((i.config_id, ", ".join(i.modules) or "(not reported)", str(i.cells),
                                   "deliberate (trap)" if i.deliberate else "UNEXPECTED",
                                   f"{i.rps_gil_on:.1f}" if i.rps_gil_on is not None else "—",
                                   "; ".join(f"{label}: {rps:.1f}" for label, rps in i.references) or "—")
                                  for i in t.incidents),
                            "GIL incidents: free-threaded cells whose GIL was on; they are invalid and excluded"))
        blocks.append(Paragraph(
            "An import turned the GIL back on for the life of the server process, with only a RuntimeWarning "
            "(claim C5). A server that does not check keeps serving, so nothing fails: the cell simply runs at "
            "GIL-bound throughput, "
            "which the table sets beside the valid cells served the same way. The lab marks such cells invalid "
            "from `/lab/runtime` (`gil_enabled`, `gil_enabled_by`) read before and after each window."))
    else:
        blocks.append(Paragraph("GIL incidents: no incident in this run (see `gil-lab audit`)."))
    if a.refusals:
        blocks.append(Table("refusals", ("configuration", "why the server did not start"), a.refusals,
                            "Servers that refused to start"))
        blocks.append(Paragraph(
            "Some servers check the GIL after importing the app on a free-threaded build and exit rather than serve "
            "with it on, so a GIL-enabling import is a start-up failure there, not a silent slowdown. The refusal "
            "is a documented outcome, recorded with the server's own message."))
    return blocks


def _open_capacity_blocks(a: Analysis, tables: CapacityTables | None, chart: Chart | None) -> list[Any]:
    """Capacity at the SLO from open-loop searches (gil-lab capacity), when the run made any."""
    if tables is None:
        return []
    loss = max((search.max_loss for search in a.run.capacities), default=None)
    blocks: list[Any] = [
        Paragraph(f"**Capacity at p95 < {tables.slo_ms:g} ms, open loop.** Requests arrived at a set rate whatever "
                  "the answers (Poisson by default), each sent in its own greenlet, and latency was measured from "
                  "each request's *intended* send time, so a queue in front of a busy server counts (closed-loop "
                  "latency hides it). Every arrival is counted from the generator's schedule log: one not answered "
                  "by the SLO after the window's end counts as over the SLO, and as lost. A step is under the SLO "
                  "when fewer than 5% of its arrivals went without a good answer within it (its p95 under it) and "
                  "failed, dropped and unanswered arrivals stay under "
                  + (f"{loss:.0%}" if loss is not None else "the search's loss limit")
                  + ". Each search brackets the capacity with short windows, then spends longer windows on either "
                  "side of it, the searches of a scenario taking turns step by step; the capacity is where a "
                  "logistic curve of the share of arrivals over the SLO, fitted to every step near it, crosses 5%. "
                  "An invalid window (the load generator could not keep its schedule) is no step of the fit; "
                  "invalid windows at every rate the search needs stop it, and its capacity is then only a lower "
                  "bound. " + RESOLUTION_AND_UNCERTAINTY),
        *[Paragraph(line) for line in tables.headlines],
        *_tuned_blocks(tables),
        tables.capacity,
        *([tables.ratios] if tables.ratios is not None else []),
    ]
    if chart is not None:
        blocks.append(chart)
    return blocks


def _tuned_blocks(tables: CapacityTables) -> list[Any]:
    """Each side at its best as well as at equal settings, when the run tried several settings per side."""
    if tables.tuned is None:
        return []
    return [
        Paragraph("**Each interpreter at its best, as well as at equal settings.** This run searched each side at "
                  "several settings (anyio thread limits, workers). *At equal settings* compares 3.14t with each "
                  "side at the same thread limit: the same app and settings on another interpreter. *Best against "
                  "best* compares each side at the setting that gave it the most capacity (ties go to fewer "
                  "threads): what a planner would deploy. On 3.14 more threads cost more GIL contention, so equal "
                  "settings can flatter 3.14t. Each thread limit was its own comparison (the *screen*); the best "
                  "setting of each side was then searched again, the sides side by side (the *confirm* searches), "
                  "and best against best uses those re-measured capacities: the highest of several noisy figures, "
                  "reported as it came, would flatter whichever side had a lucky search. A capacity from a search "
                  "that invalid windows stopped is only a lower bound, which turns a ratio into a bound (at least, "
                  "at most)."),
        *[Paragraph(line) for line in tables.tuned_headlines],
        tables.tuned,
    ]


def _capacity_blocks(a: Analysis, chart: Chart | None) -> list[Any]:
    plan = a.capacity
    if not plan.families and a.run.capacities:
        return []  # an open-loop run: its own blocks say it all
    target = f"{plan.target_rps:g} rps" if plan.target_rps is not None else None
    cols = ["family", "users at best", "rps", "p95 (ms)", "rps per busy core", "rps per usable core"]
    if target:
        cols += [f"cores for {target} (linear)", f"cores for {target} (Amdahl)"]
    rows = []
    for f in plan.families:
        if f.best is None or f.rate is None:
            why = "no users level meets the SLO" if f.measured else "no valid repeat (see section 8)"
            row = [f.label, "—", why, "—", "—", "—"]
        else:
            row = [f.label, str(f.best.users), fmt_ci(f.best.rps), fmt_ci(f.best.p95, 0),
                   f"{f.rate.rps_per_busy_core:.2f}" if f.rate.rps_per_busy_core else "—",
                   f"{f.rate.rps_per_usable_core:.2f}"]
        if target:
            row += [str(f.cores_needed) if f.cores_needed else "—",
                    str(f.cores_needed_model) if f.cores_needed_model else "—"]
        rows.append(tuple(row))
    blocks: list[Any] = [
        Paragraph(f"Highest throughput whose mean p95 stays under the SLO of {plan.slo_ms:g} ms, per configuration "
                  f"family (across users levels), and throughput per core. Linear core estimates assume perfect "
                  f"scaling and are a lower bound."),
        Table("capacity-table", tuple(cols), tuple(rows), f"Capacity at p95 < {plan.slo_ms:g} ms"),
    ]
    ok = [p for p in plan.projections if p.ok]
    refused = [p for p in plan.projections if not p.ok]
    if ok:
        blocks.append(Paragraph("**Projection, not measurement.** Models fitted to the measured core counts and "
                                "extended to more cores. Trust them only as far as the fit quality and the number "
                                "of points allow."))
        rows_p = []
        for p in ok:
            pts = ", ".join(f"{n:g}→{y:.3g}" for n, y in p.points)
            for fit in p.fits:
                preds = ", ".join(f"{n}: {fit.predict(n):.3g}" for n in p.cores)
                resid = ", ".join(f"{r:+.2g}" for r in fit.residuals)
                peak = f"; peak at {fit.peak_cores:.1f} cores" if fit.peak_cores else ""
                rows_p.append((p.source, pts, fit.describe + peak, resid, preds))
        blocks.append(Table("projections", ("measured", "points (cores→throughput)", "fit", "residuals",
                                            "PROJECTED throughput at cores"), tuple(rows_p),
                            "Projections to more cores (labelled as such)"))
    if chart is not None:
        blocks.append(chart)
    if refused:
        cores = a.run.usable_cores
        blocks.append(Paragraph(
            f"**Too few points** for a projection of {len(refused)} series: a model fitted to fewer than "
            f"{MIN_POINTS_AMDAHL} distinct core counts would be extrapolation, so none is made. The measurement that "
            f"gives one is a CPU-set sweep over three core counts, e.g. `gil-lab compare --cpus 1,2,4` on a machine "
            f"with at least 4 usable cores (this one has {cores})."))
        blocks.append(Bullets(tuple(f"{p.source}: {p.reason}" for p in refused)))
    return blocks


def _method_blocks(a: Analysis) -> list[Any]:
    r = a.run
    m = r.machine
    mach_rows = tuple((k, str(getattr(m, k))) for k in ("cpu_model", "cpu_count", "usable_cores", "affinity", "os",
                                                         "memory_gb", "hostname", "git_sha", "git_dirty"))
    interp_rows = []
    packages: dict[str, dict[str, str]] = {}
    for label, info in r.interpreters.items():
        flags = " ".join(info.build.configure_flags) if info.build else ""
        unsupported = info.unsupported
        interp_rows.append((label, str(info.version or "?"), str(info.free_threaded),
                            str(info.path or info.url or ""), str(info.configure_args or ""),
                            flags or "—", info.source,
                            "; ".join(f"{k}: {v}" for k, v in unsupported.items()) or "—"))
        for pkg, ver in info.packages.items():
            packages.setdefault(pkg, {})[label] = str(ver)
    labels = list(r.interpreters)
    pkg_rows = tuple((pkg, *(vers.get(lb, "not installed") for lb in labels)) for pkg, vers in sorted(packages.items()))
    s = r.settings
    settings_text = (f"Preset `{r.preset}`; warm-up at most {s.warmup_s:g} s per server, measured windows of "
                     f"{s.duration_s:g} s, {s.repeats} pair(s) per comparison (the pilot's, at least, when "
                     f"adaptive), {s.plan.instances} server instance(s) per arm, Locust "
                     f"workers {s.locust_workers}. Run `{r.run_id}` started {r.created_at}, finished "
                     f"{r.finished_at or 'never (interrupted)'}; complete: {r.complete}.")
    inv = a.invalid_cells
    blocks: list[Any] = [
        *service_blocks(a),
        Paragraph(settings_text),
        Paragraph(_pairing_text(a)),
        Paragraph("**Efficiency**, two definitions. *Interpreter speedup*: the ratio ÷ (the cores the candidate "
                  "could use ÷ the cores the baseline actually used), where \"could use\" is the smallest of the "
                  "usable cores (or the CPU set), the concurrent requests and what the server model allows; a "
                  "one-user comparison could use 1 core. So a 3.14 baseline that already kept 1.97 of 2 cores busy "
                  "(Pillow releases the GIL) leaves an ideal of about 1×, not 2×. *Scaling along a sweep*: the "
                  "speedup over the sweep's first point ÷ the ratio of the cores each point could use."),
        Paragraph(_thresholds_text(a)),
        Paragraph(EVENT_LOOP_NOTE),
        Paragraph(PILLOW_NOTE),
        Table("machine", ("field", "value"), mach_rows, "Machine"),
        Table("interpreters", ("label", "version", "free-threaded", "path", "configure args", "build flags",
                               "source", "unsupported packages"), tuple(interp_rows), "Interpreters"),
    ]
    if pkg_rows:
        blocks.append(Table("packages", ("package", *labels), pkg_rows, "Package versions per environment"))
    for table in (_bytecode_table(a), _warmup_table(a)):
        if table is not None:
            blocks.append(table)
    if inv:
        blocks.append(Table("invalid-cells", ("cell", "reason"), tuple(inv),
                            f"{len(inv)} invalid cell(s): listed, never averaged", tuple("invalid" for _ in inv)))
    else:
        blocks.append(Paragraph("Invalid cells: none."))
    return blocks


def _pairing_text(a: Analysis) -> str:
    plan = a.run.settings.plan
    if not any(c.comparison_id for c in a.run.cells):
        return ("Statistics: this run measured cells one at a time (before paired windows): a configuration's "
                "figure is the mean of its valid repeats with a 95% Student-t interval; a speedup is a ratio of "
                "means with a Fieller interval (Welch degrees of freedom). A ratio whose interval contains 1 is "
                "reported as **not significant**.")
    stopping = (f"in **two stages**: a pilot of {max(PILOT_PAIRS, plan.repeats)} valid pairs gave their spread, "
                f"which fixed the pairs that bring each ratio to ±{plan.precision:.0%}"
                + (f" (within at most {plan.max_time_s:g} s per comparison: the time budget wins, and the precision "
                   "reached is shown)" if plan.max_time_s else "")
                + "; the comparison never stopped because an interval looked narrow, which keeps the intervals' "
                  "coverage at 95%" if plan.precision is not None
                else f"a fixed {plan.repeats} pair(s) per comparison")
    instances = (f" Each arm ran on {plan.instances} server instances (fresh processes, each with its own hash seed), "
                 "blocks taking turns between them; where the instances disagree more than their pairs' spread "
                 "explains, the interval's error comes from the instances." if plan.instances > 1 else "")
    return (f"Statistics: the servers of a comparison ran side by side, warm; only one carried load at a time. "
            f"Windows of {plan.duration_s:g} s alternated in palindromic blocks (A B B A), each after a discarded "
            f"{plan.transition_s:g} s transition and a drain (the previous server finished its requests and went "
            "idle), so a linear drift of the machine cancels within a block. A "
            f"ratio is the geometric mean of the per-block ratios with a 95% Student-t interval on their logs; "
            f"one whose interval contains 1 is reported as **not significant**. Pairs were measured {stopping}."
            f"{instances} Each new server was first loaded until 200 requests had completed and the rates of its "
            f"last two blocks of 100 agreed within 10% (at most {plan.warmup_s:g} s; the warm-up table shows each "
            "one).")


def _thresholds_text(a: Analysis) -> str:
    v = a.run.settings.validity
    return (f"**Validity thresholds** of this run: a window is invalid when a Locust process used more than "
            f"{v.client_saturation_cores:g} cores (the load generator was saturated), when more than "
            f"{v.max_failure_ratio:.0%} of its requests failed, when a free-threaded server reported the GIL on "
            f"without PYTHON_GIL=1, when the server stopped answering, or (N processes) when a worker used less "
            f"than {v.idle_worker_cores:g} cores." + _noise_text(a))


def _noise_text(a: Analysis) -> str:
    v = a.run.settings.validity
    if v.noisy_steal is None:
        return ""
    windows = [c for c in a.run.cells if c.block is not None]
    noisy = [c for c in windows if c.noisy]
    again = sum(c.superseded for c in windows)
    return (f" A window is **noisy** when the machine was busy elsewhere: more than {v.noisy_steal:.0%} of the CPU "
            f"time stolen by the hypervisor, or other work using more than {v.noisy_foreign_cores:g} cores beside "
            f"the measured processes. It is measured again at once (at most {v.noisy_repeats} times in a row and "
            f"{v.noisy_repeats_per_comparison} times per comparison) and never makes its configuration invalid. "
            f"This run: {len(noisy)} of {len(windows)} windows noisy, {again} measured again."
            + (" The machine was busy elsewhere for much of the run: its figures carry that load."
               if windows and len(noisy) > len(windows) / 2 else ""))


def _warmup_table(a: Analysis) -> Table | None:
    if not a.run.warmups:
        return None
    rows = tuple((w.comparison_id, w.config_id, str(w.instance + 1),
                  "—" if w.startup_s is None else f"{w.startup_s:.1f}", f"{w.seconds:.0f}",
                  "—" if w.completions is None else str(w.completions),
                  "yes" if w.converged else "no (budget ran out)",
                  "—" if w.idle_uss_mb is None else f"{w.idle_uss_mb:.0f} / {w.idle_rss_mb:.0f}",
                  " ".join(str(n) for n in w.rps_series)) for w in a.run.warmups)
    return Table("warmups", ("comparison", "configuration", "instance", "start-up s", "warm-up s", "completions",
                             "stable", "idle USS / RSS MB", "requests per second"), rows,
                 "Every server instance: its start-up, its memory before any load, and its warm-up (load until 200 "
                 "requests completed and the last two blocks of 100 agree within 10%)")


def _bytecode_table(a: Analysis) -> Table | None:
    if not a.run.bytecode:
        return None
    rows = tuple((label, b.state, b.cache_prefix or "—", str(b.dont_write_bytecode),
                  ", ".join(f"{t.kind} {t.files} files" + (f" ({t.failed} failed)" if t.failed else "")
                            for t in b.trees) or "—",
                  ", ".join(f"{k}={v}" for k, v in b.shell.items()) or "—") for label, b in a.run.bytecode.items())
    return Table("bytecode", ("interpreter", "state", "cache prefix", "PYTHONDONTWRITEBYTECODE", "compiled",
                              "your shell had (not passed on)"), rows,
                 "How the servers loaded their modules (on 3.14t, module constants are immortal only from bytecode)")


# --- assembly -------------------------------------------------------------------------


def _chart(fig: Any, name: str, caption: str, chart_dir: Path | None, run_dir: Path | None) -> Chart | None:
    if fig is None:
        return None
    try:
        svg = charts.to_svg(fig, f"gil-lab-{name}")
        png = f"charts/{name}.png"
        if chart_dir is not None:
            charts.save_png(fig, chart_dir / f"{name}.png")
            if run_dir is not None:
                png = os.path.relpath(chart_dir / f"{name}.png", run_dir).replace(os.sep, "/")
    finally:
        charts.close(fig)
    return Chart(f"chart-{name}", caption, svg, png)


def build_report(a: Analysis, chart_dir: Path | None = None, run_dir: Path | None = None) -> ReportDoc:
    """The report document of an analysed run; PNG charts are written to ``chart_dir`` when given."""
    r = a.run
    cores = r.usable_cores
    scen = list(a.scenarios)

    def chart(fig: Any, name: str, caption: str) -> list[Any]:
        c = _chart(fig, name, caption, chart_dir, run_dir)
        return [c] if c else []

    scaling: list[Any] = [
        Paragraph(f"Throughput and speedup along each sweep this run measured (users, anyio threads, pinned "
                  f"CPUs), over the sweep's first point. The dotted line is the ideal, bounded by the {cores} "
                  f"usable core(s); efficiency = speedup ÷ ideal.")
    ]
    if a.sweeps:
        scaling += chart(charts.scaling_chart(a.sweeps), "scaling",
                         "Throughput (requests/s, whiskers: 95% CI) and speedup along each sweep, with the ideal")
        scaling.append(_scaling_table(a))
    else:
        scaling.append(Paragraph("No sweep in this run: every configuration was measured at one users level, "
                                 "thread count and CPU set, so there is no scaling curve. The `full` preset "
                                 "sweeps users, threads and CPUs."))
    mb_table = _microbench_table(a)
    mb_error = r.microbench.error if isinstance(r.microbench, StepFailure) else None
    if mb_error:
        scaling.append(Paragraph(f"The threads microbenchmark failed, so there are no HTTP-free figures: "
                                 f"microbenchmark failed: {mb_error}"))
    if mb_table is not None and a.microbench is not None:
        scaling += chart(charts.microbench_chart(a.microbench.rows, a.microbench.usable_cores), "microbench",
                         "Microbenchmark (no HTTP): speedup of N threads over 1 thread per interpreter variant; "
                         "whiskers: 95% CI; dotted: ideal on the usable cores")
        scaling.append(mb_table)
    scaling.append(Paragraph(EVENT_LOOP_NOTE))

    curve_chart = _chart(charts.capacity_curve_chart(a.capacity_curves), "capacity-curve",
                         "Open loop, every step of every search: above, p95 from the intended send with its 95% bound "
                         "(log scale); below, the share of arrivals over the SLO with the curve fitted to the steps "
                         "near it. Filled points were under the SLO, hollow ones over it, crosses invalid windows. The "
                         "dotted line is each capacity (where the fitted share is 5%), the shaded band its 95% "
                         "interval", chart_dir, run_dir)
    proj_chart = _chart(charts.projection_chart(a.capacity.projections), "projection",
                        "PROJECTION: fitted scaling models beyond the measured core counts", chart_dir, run_dir)
    sections = (
        Section("verdict", "Verdict", (Paragraph(verdict_paragraph(a)), *diagnosis_blocks(a), *probe_blocks(a),
                                       *profile_blocks(a, run_dir))),
        Section("throughput", "Throughput", (
            Paragraph("Mean requests per second over valid repeats, with 95% confidence intervals, for every "
                      "scenario × server × interpreter, including the 3.14 N-process baseline (green)."),
            *chart(charts.throughput_chart(a.configs, scen), "throughput",
                   "Throughput (requests/s) at each scenario's highest users level; whiskers: 95% CI"),
            _comparison_table(a),
            _config_table(a),
        )),
        Section("scaling", "Scaling", tuple(scaling)),
        Section("latency", "Latency", (
            *chart(charts.latency_chart(a.configs, scen, a.slo_ms), "latency",
                   f"Latency percentiles (ms) at each scenario's highest users level; dashed: SLO {a.slo_ms:g} ms"),
            _latency_table(a),
        )),
        Section("memory", "Memory", (
            Paragraph("Peak memory of the server's process tree: one 3.14t process against the same "
                      "configuration on 3.14 and against the 3.14 N-process baseline. Figures are PSS "
                      "(proportional set size): a page shared by N processes counts 1/N in each, so the N-process "
                      "baseline is not charged N times for the interpreter and libraries it shares. RSS and USS "
                      "are in the table for reference."),
            *chart(charts.memory_chart(a.configs, scen), "memory", "Peak memory (MB) per configuration"),
            _memory_table(a),
        )),
        Section("claims", "Claims C1–C6", tuple(_claims_blocks(a))),
        Section("capacity", "Capacity", (*_open_capacity_blocks(a, capacity_tables(a), curve_chart),
                                         *_capacity_blocks(a, proj_chart))),
        Section("method", "Method and environment", tuple(_method_blocks(a))),
    )
    title = f"gil-lab report: {r.run_id}"
    subtitle = (f"preset `{r.preset}` · {r.created_at} · {cores} usable core(s) · "
                f"{r.machine.cpu_model}")
    cards = summary_section(a, lambda fig, name, caption: _chart(fig, name, caption, chart_dir, run_dir))
    return ReportDoc(title, subtitle, sections, cards)


def write_report(run_dir: Path, a: Analysis) -> ReportPaths:
    """Write report.html, report.md and charts/*.png of the analysed run into ``run_dir`` (atomically per file)."""
    run_dir = Path(run_dir)
    chart_dir = run_dir / "charts"
    doc = build_report(a, chart_dir, run_dir)
    # unique temporary names: two `gil-lab report` of one run never write into each other's file
    html_path = write_text_atomic(run_dir / "report.html", render_html(doc))
    md_path = write_text_atomic(run_dir / "report.md", render_markdown(doc))
    pngs = tuple(sorted(chart_dir.glob("*.png"))) if chart_dir.is_dir() else ()
    return ReportPaths(html_path, md_path, pngs)
