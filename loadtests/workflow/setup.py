"""``gil-lab setup`` and ``gil-lab doctor``: provision, and say what was provisioned."""

from __future__ import annotations

from loadtests.provision.doctor import Diagnosis, diagnose
from loadtests.provision.interpreters import ResolveOptions
from loadtests.provision.provisioning import Provisioned, provision


def setup(python_gil: str | None = None, python_ft: str | None = None, force: bool = False) -> Provisioned:
    explicit = {role: path for role, path in (("gil", python_gil), ("ft", python_ft)) if path}
    return provision(ResolveOptions.from_env(explicit=explicit), force_sync=force)


def doctor() -> Diagnosis:
    return diagnose()
