"""``gil-lab audit`` and the per-run audit of the app on 3.14t (claim C5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loadtests.audit.gil_audit import AuditOptions, audit
from loadtests.core.flavour import FT
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.provisioning import load_interpreters
from loadtests.results.records import AuditedInterpreter, AuditOutcome

Progress = Callable[[str], None]


def audit_command(options: AuditOptions, progress: Progress) -> dict[str, Any]:
    """The full audit report, as ``gil-lab audit --json`` prints it."""
    return audit(options, load_interpreters(), progress=progress)


def outcome_of(report: Mapping[str, Any]) -> AuditOutcome:
    """The audit report as run.json stores it: its verdict first, the whole report beside it."""
    interpreter = report["interpreter"]
    return AuditOutcome(verdict=str(report["verdict"]), gil_enabled=bool(report["gil_enabled"]),
                        gil_enabled_by=tuple(report["gil_enabled_by"]),
                        interpreter=AuditedInterpreter(str(interpreter["role"]), str(interpreter["label"]),
                                                       str(interpreter["path"]), str(interpreter["version"]),
                                                       bool(interpreter["free_threaded"])),
                        report=dict(report))


def audit_app_for_run(routes_dirs: tuple[str, ...], interpreters: Mapping[str, Interpreter],
                      progress: Progress) -> AuditOutcome:
    """The app pass only, on 3.14t: does importing the app turn the GIL back on?"""
    progress("==> GIL audit: import the app in a fresh 3.14t process (the full audit is `gil-lab audit`)")
    report = audit(AuditOptions(routes_dirs=routes_dirs, distributions=False, interpreter=FT.role), interpreters)
    progress(f"    GIL after importing the app: {'ON' if report['gil_enabled'] else 'off'}")
    return outcome_of(report)
