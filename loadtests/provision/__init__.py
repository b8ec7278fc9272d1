"""Interpreters (found or built), environments, doctor. Standard library only: runs before any venv.

``provision`` finds or builds both interpreters and syncs the environments;
``load_interpreters`` reads what a set-up resolved; ``diagnose`` is ``gil-lab doctor``.
The modules run as scripts (``python -m loadtests.provision.sysdeps``, ``gil_trap``,
``app_envs``) are not imported here, so they start clean.
"""

from loadtests.provision.doctor import Diagnosis, diagnose
from loadtests.provision.envs import EnvSpec, app_python, env_specs
from loadtests.provision.interpreters import Interpreter, ResolveOptions, resolve
from loadtests.provision.provisioning import Provisioned, load_interpreters, provision

__all__ = [
    "Diagnosis",
    "EnvSpec",
    "Interpreter",
    "Provisioned",
    "ResolveOptions",
    "app_python",
    "diagnose",
    "env_specs",
    "load_interpreters",
    "provision",
    "resolve",
]
