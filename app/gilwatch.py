"""Record which imports turned the GIL back on, on a free-threaded interpreter.

On 3.14t, importing an extension that does not declare ``Py_mod_gil`` re-enables the
GIL for the rest of the process and only emits a ``RuntimeWarning``: "The global
interpreter lock (GIL) has been enabled to load module '…'". Servers import such
extensions (httptools, uvloop) *before* they import the app, so this module is
standard-library only and importable on its own. The lab copies it into each app
environment as ``gil_lab_gilwatch`` and a ``.pth`` file calls :func:`install` at
interpreter start; ``app`` calls it again when imported. :func:`enabled_by` merges
both copies' records.

How it hooks in, and why:

* It wraps ``warnings._showwarnmsg`` (where CPython has it) rather than only the
  public ``warnings.showwarning``: ``catch_warnings(record=True)`` and
  ``logging.captureWarnings()`` replace ``showwarning`` and would silently unhook us,
  while every shown warning passes through ``_showwarnmsg``. Interpreters without it
  fall back to wrapping ``showwarning``. The wrapped hook is always called, so the
  warning is still printed (or recorded) exactly as before.
* It adds an ``always`` filter for this one message, so ``-W ignore`` or
  ``PYTHONWARNINGS=ignore`` cannot hide it. Other warnings are untouched, and if the
  user's filters turn this warning into an error, that choice is kept.

Limit: an import wrapped in ``catch_warnings()`` + ``simplefilter("ignore")`` by a
third party is invisible here; ``sys._is_gil_enabled()`` still tells the truth.
"""

from __future__ import annotations

import re
import sys
import threading
import warnings
from typing import Any

__all__ = ["MESSAGE", "enabled_by", "install", "installed", "record", "recorded"]

#: The start of CPython's message (Python/import.c), up to the module name.
MESSAGE = "The global interpreter lock (GIL) has been enabled to load module"
_NAME = re.compile(re.escape(MESSAGE) + r" '([^']+)'")
_FILTER = re.escape(MESSAGE)
#: Attribute set on our wrapper, shared by every copy of this file.
_MARK = "_gil_lab_gilwatch"
#: The name the lab's ``.pth`` hook imports this file under.
SITE_MODULE = "gil_lab_gilwatch"

_lock = threading.Lock()
_modules: list[str] = []


def record(message: object) -> str | None:
    """Record the module named by a GIL warning; return its name, or None for other text."""
    match = _NAME.search(str(message))
    if match is None:
        return None
    name = match.group(1)
    with _lock:
        if name not in _modules:
            _modules.append(name)
    return name


def recorded() -> list[str]:
    """Modules recorded by this copy of the module, in the order they were seen."""
    with _lock:
        return list(_modules)


def enabled_by() -> list[str]:
    """Modules whose import re-enabled the GIL: this copy's records merged with the site hook's."""
    names = recorded()
    site = sys.modules.get(SITE_MODULE)
    if site is not None and site is not sys.modules.get(__name__):
        site_recorded = getattr(site, "recorded", None)
        if callable(site_recorded):
            names = list(dict.fromkeys([*site_recorded(), *names]))
    return names


def installed() -> bool:
    """Whether a gilwatch hook (from any copy of this file) is in place."""
    hook = getattr(warnings, "_showwarnmsg", None)
    return bool(getattr(hook, _MARK, False) or getattr(warnings.showwarning, _MARK, False))


def install() -> None:
    """Hook the warnings machinery so GIL re-enablement is recorded. Idempotent.

    If another copy (the site hook) is already installed, that copy records and
    :func:`enabled_by` reads it, so nothing is wrapped twice.
    """
    with _lock:
        _add_filter()
        if installed():
            return
        if callable(getattr(warnings, "_showwarnmsg", None)):
            warnings._showwarnmsg = _wrap_showwarnmsg(warnings._showwarnmsg)  # type: ignore[attr-defined]
        else:  # pragma: no cover - every CPython since 3.6 has _showwarnmsg
            warnings.showwarning = _wrap_showwarning(warnings.showwarning)


def _wrap_showwarnmsg(previous: Any) -> Any:
    def _showwarnmsg(msg: Any) -> None:
        if isinstance(msg.category, type) and issubclass(msg.category, RuntimeWarning):
            record(msg.message)
        previous(msg)

    setattr(_showwarnmsg, _MARK, True)
    return _showwarnmsg


def _wrap_showwarning(previous: Any) -> Any:
    def showwarning(
        message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        if isinstance(category, type) and issubclass(category, RuntimeWarning):
            record(message)
        previous(message, category, filename, lineno, file, line)

    setattr(showwarning, _MARK, True)
    return showwarning


def _add_filter() -> None:
    """Make this one warning always shown, unless the user made it an error."""
    sample = f"{MESSAGE} 'x'"
    for action, message, category, module, lineno in warnings.filters:
        if message is not None and getattr(message, "pattern", None) == _FILTER and action == "always":
            return  # already ours (or equivalent)
        applies = (
            (message is None or message.match(sample))
            and issubclass(RuntimeWarning, category)
            and module is None
            and lineno == 0
        )
        if applies:
            if action == "error":
                return  # the user asked for imports that re-enable the GIL to fail
            break
    warnings.filterwarnings("always", message=_FILTER, category=RuntimeWarning)
