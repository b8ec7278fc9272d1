"""The report's diagnosis section, and what it says about a team's own service.

``diagnosis_blocks``: per scenario and server, each finding of the analysis's diagnosis
with its evidence and what to change, every module that turned the GIL on with the
distribution that ships it and the remedies, and the thresholds the rules used.
``service_blocks``: the app, its environments (and the versions that differ), the
Locust file's user classes with their wait_time, and the preflight, for the method
section. ``terminal_lines``: the diagnosis for the summary ``gil-lab compare`` prints.
"""

from __future__ import annotations

import textwrap
from typing import Any

from loadtests.analysis.figures import diagnosis as rules
from loadtests.analysis.figures.analysis import Analysis
from loadtests.report.diagnosis_evidence import evidence_text
from loadtests.report.document import Paragraph, Table, plain


def _thresholds() -> str:
    return (f"Rules and thresholds: the event loop is the limit when its thread used at least "
            f"{rules.LOOP_SATURATED_CORES:g} cores (or did {rules.LOOP_SHARE:.0%} of the server's work while "
            f"requests queued) while at least {rules.IDLE_CORES:g} of the cores the server could use stayed idle; "
            f"3.14 was already parallel at {rules.ALREADY_PARALLEL_SHARE:.0%} of those "
            f"cores; each request cost more on 3.14t when its rps per busy core fell to "
            f"{rules.PER_CORE_DROP:.0%} of 3.14's or less; the load was too light with fewer than "
            f"{rules.IN_FLIGHT_SHARE:.0%} of a request in flight per usable core (rps × mean latency); requests "
            f"waited when enough were in flight but the server used under {rules.WAITING_SHARE:.0%} of the cores; "
            f"Locust was close to saturation at {rules.CLIENT_NEAR_SATURATION:g} cores per process; a speedup "
            f"scales at an efficiency of {rules.SCALES_EFFICIENCY:g}.")


def diagnosis_blocks(a: Analysis) -> list[Any]:
    rows = [(d.scenario, d.server, f.title, f.detail, evidence_text(f.evidence), f.change)
            for d in a.diagnoses for f in d.findings]
    blocks: list[Any] = [Paragraph(
        "**Diagnosis.** Why each scenario does or does not scale, from what this run measured: the server's CPU per thread (the "
        "event loop's against the worker threads'), requests in flight, rps per busy core, the GIL state of every "
        "window, the load generator's CPU and, for your own service, the routes your Locust file reached and how "
        "the app's table declares them. Each finding names what you can change.")]
    if rows:
        blocks.append(Table("diagnosis", ("scenario", "server", "finding", "what was measured", "evidence",
                                          "what you can change"),
                            tuple(rows), "Diagnosis per scenario and server (server `probe`: the in-process probe); "
                                         "the evidence column is summary.json's"))
    else:
        blocks.append(Paragraph("No scenario has valid windows to diagnose."))
    if a.run.gil_culprits:
        blocks.append(Table("gil-culprits", ("module", "distribution", "seen by", "remedies"), tuple(
            (c.module, f"{c.distribution} {c.version}" if c.distribution else "(not from an installed distribution)",
             "; ".join(c.found_by), " ".join(f"{r.kind}: {r.text}" for r in c.remedies))
            for c in a.run.gil_culprits), "Modules that turned the GIL on under 3.14t, who ships them, what to do"))
    blocks.append(Paragraph(_thresholds()))
    return blocks


def service_blocks(a: Analysis) -> list[Any]:
    service = a.run.settings.service
    if service is None:
        return []
    blocks: list[Any] = [Paragraph(
        f"**Your service**: `{service.app}` from `{service.app_dir}`; requirements "
        + (f"`{service.requirements}`" if service.requirements else "none beyond the lab's (its own environments)")
        + "; load " + (f"`{service.locustfile}`" if service.locustfile else "the lab's scenario")
        + ". The claims C1–C6 are about the lab's own scenarios and are not checked on yours."
        + (" A PYTHON_GIL=0 arm ran beside 3.14t: it is a risk, never the headline." if service.python_gil_0 else ""))]
    blocks.append(Table("service-environments", ("interpreter", "environment", "lock sha256", "status"), tuple(
        (label, env.path, (env.lock_sha256 or "—")[:12],
         "ok" if env.available else f"NOT BUILT: {env.why_unavailable}")
        for label, env in service.environments.items()), "The environments your app ran in"))
    if service.differences:
        blocks.append(Table("service-differences", ("package", "3.14", "3.14t"), tuple(
            (d.package, d.gil or "not installed", d.ft or "not installed") for d in service.differences),
            "Packages the two interpreters resolved to different versions: a speed difference is not the "
            "interpreter's alone"))
    if service.user_classes:
        blocks.append(Table("service-users", ("user class", "weight", "wait_time (kept)", "tasks (weight)"), tuple(
            (u.name, str(u.weight) if not u.fixed_count else f"fixed {u.fixed_count}", u.wait_time,
             ", ".join(f"{t.name} ({t.weight})" for t in u.tasks)) for u in service.user_classes),
            "Your Locust file's user classes: the lab set the host and the user count, nothing else"))
    if service.preflight:
        blocks.append(Table("service-preflight", ("interpreter", "task", "requests", "route"), tuple(
            (p.interpreter, f"{t.user_class}.{t.task}",
             "; ".join(f"{r.method} {r.path} → {r.status or r.error}" for r in t.requests) or (t.error or "none"),
             ", ".join(sorted({r.route or "(no route)" for r in t.requests})))
            for p in service.preflight for t in p.tasks), "Preflight: every task once, before any window"))
    return blocks


def terminal_lines(a: Analysis, width: int = 110) -> list[str]:
    lines = []
    for d in a.diagnoses:
        for f in d.findings:
            lines += textwrap.wrap(plain(f"{d.scenario}/{d.server}: {f.title}. {f.detail}"), width,
                                   initial_indent="  ", subsequent_indent="    ")
            if f.evidence:
                lines += textwrap.wrap(f"evidence: {evidence_text(f.evidence)}", width, initial_indent="    ",
                                       subsequent_indent="      ")
            lines += textwrap.wrap(plain(f"-> {f.change}"), width, initial_indent="    ", subsequent_indent="       ")
    return ["diagnosis:", *lines] if lines else []
