"""``gil-lab setup`` and ``gil-lab doctor``: provision, and say what was provisioned."""

from __future__ import annotations

import time
from collections.abc import Callable

from loadtests.audit.gil_audit import render
from loadtests.core.errors import LabError
from loadtests.provision.doctor import Diagnosis, diagnose
from loadtests.provision.interpreters import ResolveOptions
from loadtests.provision.provisioning import Provisioned, load_interpreters, provision
from loadtests.results.records import ServiceSettings
from loadtests.workflow.audit import audit_service_for_run
from loadtests.workflow.service import ServiceRequest, check_inputs, environments, prepare, team_distributions


def setup(python_gil: str | None = None, python_ft: str | None = None, force: bool = False) -> Provisioned:
    explicit = {role: path for role, path in (("gil", python_gil), ("ft", python_ft)) if path}
    return provision(ResolveOptions.from_env(explicit=explicit), force_sync=force)


def doctor() -> Diagnosis:
    return diagnose()


def setup_service(request: ServiceRequest, progress: Callable[[str], None]) -> str:
    """A team's two environments, the app inspected in each, and its audit on 3.14t: a text summary."""
    inputs = check_inputs(request, (), progress)
    interpreters = load_interpreters(verify_again=False)
    started = time.monotonic()
    environments(inputs, interpreters, progress)  # timed alone: a second sync of the same file is a no-op
    synced = time.monotonic()
    prepared = prepare(inputs, interpreters, (), False, progress, with_preflight=False)
    lines = [f"{inputs.app}: environments synced in {synced - started:.2f} s, the app inspected in both in "
             f"{time.monotonic() - synced:.1f} s"]
    lines += environment_lines(prepared.settings)
    ft = prepared.own_envs.get("3.14t")
    try:
        audit = audit_service_for_run(prepared.settings, (), interpreters,
                                      team_distributions(prepared.settings, ft["packages"] if ft else {}), progress)
    except LabError as exc:
        lines.append(f"GIL audit on 3.14t: not run ({exc})")
    else:
        lines += ["", render(audit.report)]
    return "\n".join(lines)


def environment_lines(service: ServiceSettings) -> list[str]:
    """Per interpreter: where the app runs, or why it cannot; then the versions that differ."""
    lines = []
    for label, env in service.environments.items():
        if env.available:
            lines.append(f"  {label}: {env.python}")
        else:
            lines.append(f"  {label}: no environment:")
            lines += [f"      {line}" for line in env.why_unavailable.splitlines()]
        inspection = service.inspections.get(label)
        if inspection is not None:
            loop = [r for r in inspection.routes or () if r.kind == "http" and (r.async_def or r.body_model)]
            lines += [f"      on the event loop: {','.join(r.methods or ['*'])} {r.path} ("
                      + ", ".join(filter(None, ["async def" if r.async_def else "",
                                                f"body {r.body_model}" if r.body_model else ""])) + ")"
                      for r in loop]
    lines += [f"  differs: {d.package} {d.gil or '-'} on 3.14, {d.ft or '-'} on 3.14t" for d in service.differences]
    return lines
