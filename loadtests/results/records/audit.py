"""The GIL audit of the app on 3.14t and the modules that turned the GIL on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class AuditedInterpreter(Record):
    """The interpreter an audit imported the app with."""

    role: str = doc("gil or ft.")
    label: str = doc("3.14 or 3.14t.")
    path: str = doc("The interpreter.")
    version: str = doc("Its Python version.")
    free_threaded: bool = doc("Whether it is the free-threaded build.")


@dataclass(frozen=True)
class AuditOutcome(Record):
    """The GIL audit's app pass on 3.14t (``gil-lab audit --json`` is ``report``)."""

    verdict: str = doc("clean, gil-enabled (the app's own import turned the GIL on), requirement-needs-gil (the app's "
                       "import left it off; a distribution of its environment turns it on if imported), "
                       "gil-forced-off, gil-build or import-failed.")
    gil_enabled: bool = doc("Whether the GIL ended up enabled after any import: the app's, or a distribution's in "
                            "its own process.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that turned it on, in either.")
    interpreter: AuditedInterpreter = doc("The audited interpreter.")
    report: Mapping[str, Any] = doc("The whole audit report, as `gil-lab audit --json` prints it.")
    app_gil_enabled: bool | None = doc("Whether importing the app itself turned the GIL on (null: the app was not "
                                       "imported, or an audit recorded before this was kept).", default=None)
    app_enabled_by: tuple[str, ...] = doc("The modules the app's own import turned it on with.", default=())
    would_enable: tuple[str, ...] = doc("Distributions of the environment that turn it on when imported, as "
                                        "`name version: modules` (the app's import did not load them).",
                                        default=())


@dataclass(frozen=True)
class GilRemedy(Record):
    """One way out for a module that turns the GIL on."""

    kind: str = doc("upgrade, alternative, fix or python_gil_0 (forcing it off: a risk).")
    text: str = doc("What to do.")


@dataclass(frozen=True)
class GilCulprit(Record):
    """A module that turned the GIL on under 3.14t, the distribution that ships it, and the remedies."""

    module: str = doc("The module CPython named.")
    distribution: str | None = doc("The installed distribution that ships it, or null when none does.")
    version: str | None = doc("That distribution's version.")
    file: str | None = doc("The extension file.")
    found_by: tuple[str, ...] = doc("Where it was seen: the audit's app import, its distribution pass, or a server's "
                                    "/lab/runtime during the run.")
    remedies: tuple[GilRemedy, ...] = doc("What the team can do, best first; forcing the GIL off comes last, with "
                                          "its risk.")
