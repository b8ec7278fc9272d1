"""Check the interpreter of an image at build time, with the lab's own verification.

``docker/Dockerfile`` runs this in every final image, with the flavour it must be
(``gil`` or ``ft``) and the ``loadtests`` package mounted beside this file's
directory. It asks the same questions ``make setup`` asks of an interpreter
(``loadtests.provision.interpreters.verify``: version, ``Py_GIL_DISABLED``, GIL state at
start) and imports every stdlib extension of
``loadtests.provision.cpython_build.MODULE_PACKAGES``. A build that silently lost a module
(a missing ``-dev`` package) or a runtime image missing a shared library then fails
``docker build``, not a measurement.

    python docker/selfcheck.py gil|ft
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# The repository root (or /srv/lab in the control image): where ``loadtests`` is.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.provision.cpython_build import FLAVOURS, MODULE_PACKAGES  # noqa: E402
from loadtests.core.errors import LabError  # noqa: E402
from loadtests.provision.interpreters import DEFAULT_VERSION, verify  # noqa: E402


def problems(flavour: str, executable: str = sys.executable) -> list[str]:
    """What is wrong with ``executable`` as the ``flavour`` interpreter; empty when nothing is."""
    found: list[str] = []
    try:
        verify(executable, flavour, DEFAULT_VERSION, "docker image")
    except LabError as exc:
        found.append(str(exc))
    for name in sorted(MODULE_PACKAGES):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            found.append(f"cannot import {name} ({MODULE_PACKAGES[name]} at build time): {exc}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in FLAVOURS:
        print(f"usage: selfcheck.py {'|'.join(FLAVOURS)}", file=sys.stderr)
        return 2
    found = problems(argv[1])
    for line in found:
        print(f"selfcheck: {line}", file=sys.stderr)
    if not found:
        print(f"selfcheck: {sys.executable} {sys.version.split()[0]} ({argv[1]}) ok")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
