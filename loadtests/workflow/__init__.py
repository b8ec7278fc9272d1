"""One function per command, end to end: provision → audit → measure → analysis → report.

The CLI is a thin layer over these functions; each can be called from Python too
(docs/api.md). The names below are loaded when first used: ``make setup`` imports
``workflow.clean`` on a bare Python, before any environment (and so before psutil,
Locust or matplotlib) exists, so this package may not import them up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadtests.workflow.finish import conclude
    from loadtests.workflow.gates import check_run, diff_gate
    from loadtests.workflow.reports import History, compare, diff, history, load_analysis, newest_run, report
    from loadtests.workflow.run import RunRequest, RunResult

#: Each public name and the module that defines it. No name is also a module's: importing
#: ``workflow.X`` binds the module to the package's attribute X.
_HOMES = {
    "RunRequest": "run", "RunResult": "run",
    "History": "reports", "compare": "reports", "diff": "reports", "history": "reports", "load_analysis": "reports",
    "newest_run": "reports", "report": "reports",
    "check_run": "gates", "diff_gate": "gates",
    "conclude": "finish",
}

__all__ = ["History", "RunRequest", "RunResult", "check_run", "compare", "conclude", "diff", "diff_gate", "history",
           "load_analysis", "newest_run", "report"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
