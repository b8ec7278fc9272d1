"""The lab's pytest plugin for the safety check: it reports each test as it goes, and guards against hangs.

Loaded into the team's own pytest (``-p gil_lab_safety_plugin``, from a directory the lab
puts on ``PYTHONPATH``), in the tests environment of one interpreter. It needs only
pytest and the standard library. Everything it learns goes to ``GIL_LAB_SAFETY_EVENTS``,
one JSON object a line, written and flushed as it happens, so a crash loses nothing
that came before it:

- ``collected``: the node ids of the session, and the ones pytest-run-parallel keeps in
  one thread with its reason;
- ``collect_error``: a module that did not import;
- ``start`` and ``finish`` around each test, and ``report`` for each of its phases;
- ``gil``: the GIL turned on during the session (the module named by CPython's warning);
- ``end``: the session's exit status and the GIL state.

Crashes: faulthandler writes the traceback of every thread to ``GIL_LAB_SAFETY_FAULTS``.
Hangs: before each test, ``faulthandler.dump_traceback_later`` arms a watchdog of
``GIL_LAB_SAFETY_TIMEOUT`` seconds; it runs in a C thread of its own, so it fires even
when every Python thread is stuck, dumps the stack of *every* thread to the same file
and exits the process; the lab then resumes the suite after that test. Node ids in the
file ``GIL_LAB_SAFETY_SKIP`` are deselected (tests already run), and when
``GIL_LAB_SAFETY_ONLY`` is set, only its node ids run (re-runs).
"""

from __future__ import annotations

import faulthandler
import json
import os
import re
import sys
import threading
from typing import Any

import pytest

GIL_WARNING = re.compile(r"The global interpreter lock \(GIL\) has been enabled to load module '([^']*)'")
MESSAGE_CHARS = 600
_lock = threading.Lock()
_files: dict[str, Any] = {}


def _emit(event: str, **fields: Any) -> None:
    out = _files.get("events")
    if out is None:
        return
    with _lock:
        out.write(json.dumps({"event": event, **fields}) + "\n")
        out.flush()


def _gil_enabled() -> bool | None:
    check = getattr(sys, "_is_gil_enabled", None)
    return None if check is None else bool(check())


def _ids(variable: str) -> set[str] | None:
    path = os.environ.get(variable)
    if not path:
        return None
    with open(path) as handle:
        return {line.rstrip("\n") for line in handle if line.strip()}


def pytest_configure(config: pytest.Config) -> None:
    events = os.environ.get("GIL_LAB_SAFETY_EVENTS")
    if not events or "events" in _files:
        return
    _files["events"] = open(events, "a", buffering=1)  # noqa: SIM115 - open for the whole session
    faults = os.environ.get("GIL_LAB_SAFETY_FAULTS")
    if faults:
        _files["faults"] = open(faults, "a")  # noqa: SIM115
        faulthandler.enable(file=_files["faults"], all_threads=True)
    _emit("configure", pid=os.getpid(), gil=_gil_enabled())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    skip, only = _ids("GIL_LAB_SAFETY_SKIP"), _ids("GIL_LAB_SAFETY_ONLY")
    keep: list[Any] = []
    drop: list[Any] = []
    for item in items:
        wanted = (skip is None or item.nodeid not in skip) and (only is None or item.nodeid in only)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    plugin = session.config.pluginmanager.get_plugin("_run-parallel")
    serial = dict(getattr(plugin, "thread_unsafe", {}) or {})
    parallel = dict(getattr(plugin, "run_in_parallel", {}) or {})
    _emit("collected", nodeids=[item.nodeid for item in session.items], serial=serial, parallel=parallel,
          run_parallel=plugin is not None)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _emit("collect_error", nodeid=report.nodeid, error=_tail(str(report.longrepr), 8))


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _emit("start", nodeid=nodeid)
    timeout = float(os.environ.get("GIL_LAB_SAFETY_TIMEOUT", "0") or 0)
    if timeout > 0 and "faults" in _files:
        faulthandler.dump_traceback_later(timeout, exit=True, file=_files["faults"])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    message = None
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = getattr(crash, "message", None) or _tail(str(report.longrepr), 3)
        where = _where(report.longrepr) if report.when != "call" else None
        if where:  # a fixture: say where in the team's code it failed
            message = f"{where}: {message}"
    elif report.skipped:
        longrepr = report.longrepr
        message = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else None
    _emit("report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
          message=None if message is None else message[:MESSAGE_CHARS])


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    faulthandler.cancel_dump_traceback_later()
    _emit("finish", nodeid=nodeid, gil=_gil_enabled())


def pytest_warning_recorded(warning_message: Any, when: str, nodeid: str, location: Any) -> None:
    match = GIL_WARNING.search(str(warning_message.message))
    if match:
        _emit("gil", module=match.group(1), nodeid=nodeid or None, when=when)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    faulthandler.cancel_dump_traceback_later()
    _emit("end", exitstatus=int(exitstatus), gil=_gil_enabled())


def _where(longrepr: Any) -> str | None:
    """``path:line`` of the innermost frame of the failure that is in the project (not a library)."""
    entries = getattr(getattr(longrepr, "reprtraceback", None), "reprentries", None) or []
    here = os.getcwd()
    for entry in reversed(entries):
        location = getattr(entry, "reprfileloc", None)
        if location is None:
            continue
        path = os.path.abspath(str(location.path))
        if path.startswith(here + os.sep) and "site-packages" not in path:
            return f"{os.path.relpath(path)}:{location.lineno}"
    return None


def _tail(text: str, lines: int) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
