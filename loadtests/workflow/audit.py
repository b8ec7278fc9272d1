"""``gil-lab audit`` and the per-run audit of the app on 3.14t (claim C5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadtests.audit.gil_audit import AuditError, AuditOptions, attribute, audit, import_line
from loadtests.core.flavour import FT, by_role
from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.provisioning import load_interpreters
from loadtests.results.records import (
    AuditedInterpreter,
    AuditOutcome,
    GilCulprit,
    GilRemedy,
    RunRecord,
    ServiceSettings,
)
from loadtests.workflow.service import ServiceRequest, check_inputs, environments
from loadtests.workflow.service import wanted as service_wanted

Progress = Callable[[str], None]


def audit_command(options: AuditOptions, progress: Progress, service: ServiceRequest | None = None) -> dict[str, Any]:
    """The full audit report, as ``gil-lab audit --json`` prints it (of a team's environment and app, if given)."""
    interpreters = load_interpreters()
    if service is not None and service_wanted(service, options.routes_dirs):
        inputs = check_inputs(service, tuple(str(Path(d).resolve()) for d in options.routes_dirs), progress)
        label = by_role(options.interpreter).label
        env = environments(inputs, interpreters, progress)[0][label]
        if env.python is None:
            raise AuditError(f"no {label} environment to audit {inputs.app} in: {env.why_unavailable}")
        options = replace(options, python=env.python if env.own else None,
                          app_dir=None if inputs.builtin else str(inputs.app_dir))
    return audit(options, interpreters, progress=progress)


def outcome_of(report: Mapping[str, Any]) -> AuditOutcome:
    """The audit report as run.json stores it: its verdict first, the whole report beside it."""
    interpreter = report["interpreter"]
    app_on = report.get("app_gil_enabled")
    return AuditOutcome(verdict=str(report["verdict"]), gil_enabled=bool(report["gil_enabled"]),
                        gil_enabled_by=tuple(report["gil_enabled_by"]),
                        app_gil_enabled=None if app_on is None else bool(app_on),
                        app_enabled_by=tuple(report.get("app_enabled_by", ())),
                        would_enable=tuple(f"{d['distribution']} {d['version']}: {', '.join(d['modules'])}"
                                           for d in report.get("would_enable", [])),
                        interpreter=AuditedInterpreter(str(interpreter["role"]), str(interpreter["label"]),
                                                       str(interpreter["path"]), str(interpreter["version"]),
                                                       bool(interpreter["free_threaded"])),
                        report=dict(report))


def audit_app_for_run(routes_dirs: tuple[str, ...], interpreters: Mapping[str, Interpreter],
                      progress: Progress) -> AuditOutcome:
    """The app pass only, on 3.14t: does importing the app turn the GIL back on?"""
    progress("==> GIL audit: import the app in a fresh 3.14t process (the full audit is `gil-lab audit`)")
    report = audit(AuditOptions(routes_dirs=routes_dirs, distributions=False, interpreter=FT.role), interpreters)
    progress(f"    {import_line(report)}")
    return outcome_of(report)


def audit_service_for_run(service: ServiceSettings, routes_dirs: tuple[str, ...],
                          interpreters: Mapping[str, Interpreter], team_distributions: tuple[str, ...] | None,
                          progress: Progress) -> AuditOutcome:
    """A team's app on 3.14t, in the environment it is served from, and each distribution its requirements added."""
    env = service.environments.get(FT.label)
    if env is None or env.python is None:
        reason = env.why_unavailable if env is not None else "none was prepared"
        raise AuditError(f"no {FT.label} environment to audit {service.app} in: {reason}")
    names = team_distributions or ()
    progress(f"==> GIL audit: import {service.app} in a fresh {FT.label} process"
             + (f", then each of {len(names)} distributions your requirements added or changed" if names else ""))
    options = AuditOptions(app=service.app, routes_dirs=routes_dirs, distributions=bool(names), interpreter=FT.role,
                           python=env.python if env.own else None,
                           app_dir=None if Path(service.app_dir) == PROJECT_ROOT else service.app_dir,
                           only_distributions=names or None)
    report = audit(options, interpreters)
    progress(f"    {import_line(report)}")
    return outcome_of(report)


def culprit_record(offender: Mapping[str, Any], found_by: tuple[str, ...]) -> GilCulprit:
    return GilCulprit(module=str(offender["module"]), distribution=offender.get("distribution"),
                      version=offender.get("version"), file=offender.get("file"), found_by=found_by,
                      remedies=tuple(GilRemedy(str(r["kind"]), str(r["text"])) for r in offender.get("remedies", [])))


def culprits_of_audit(report: Mapping[str, Any]) -> tuple[GilCulprit, ...]:
    """Every module the audit saw turn the GIL on: in the app's import, or in a distribution's own import."""
    found: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    sightings = [(o, f"audit: importing {report['app']['target']}") for o in report["app"]["offenders"]]
    sightings += [(o, f"audit: importing {d['name']} {d['version']}")
                  for d in report["distributions"]["results"] for o in d["offenders"]]
    for offender, where in sightings:
        found.setdefault(offender["module"], (offender, []))[1].append(where)
    return tuple(culprit_record(offender, tuple(where)) for offender, where in found.values())


def culprits_after_windows(record: RunRecord, python: Path, progress: Progress) -> tuple[GilCulprit, ...]:
    """The run's culprits, plus every module a 3.14t server named that the audit had not: who ships it, and what to do."""
    known = {c.module: c for c in record.gil_culprits}
    named = list(dict.fromkeys(m for c in record.cells if c.free_threaded for m in c.gil_enabled_by))
    seen = "a 3.14t server's /lab/runtime during the run"
    out = [replace(c, found_by=(*c.found_by, seen)) if c.module in named and seen not in c.found_by else c
           for c in record.gil_culprits]
    new = [m for m in named if m not in known]
    if new and python.exists():
        progress(f"==> who ships {', '.join(new)} (turned the GIL on in a 3.14t server)")
        out += [culprit_record(o, (seen,)) for o in attribute(python, new)]
    return tuple(out)
