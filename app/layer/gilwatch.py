"""Record which imports turned the GIL back on, on a free-threaded interpreter.

On 3.14t, importing an extension that does not declare ``Py_mod_gil`` re-enables the
GIL for the rest of the process and only emits a ``RuntimeWarning``: "The global
interpreter lock (GIL) has been enabled to load module '…'". Servers import such
extensions (httptools, uvloop) *before* they import the app, so this module is
standard-library only and importable on its own. The lab installs the layer into each
app environment as ``gil_lab_layer``, with a ``.pth`` file that calls
``install(site_hook=True)`` at interpreter start; ``gil_lab_layer.serve`` calls
:func:`install` again before it imports the app, so the app's own imports are recorded
even in an environment without the hook.

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
import threading
import warnings
from typing import Any

__all__ = ["MESSAGE", "enabled_by", "install", "installed", "record", "started_by_site_hook"]

#: The start of CPython's message (Python/import.c), up to the module name.
MESSAGE = "The global interpreter lock (GIL) has been enabled to load module"
_NAME = re.compile(re.escape(MESSAGE) + r" '([^']+)'")
_FILTER = re.escape(MESSAGE)
#: Attribute set on our wrapper, so a second install (or a second copy of this file) sees it.
_MARK = "_gil_lab_gilwatch"

_lock = threading.Lock()
_modules: list[str] = []
_from_site = False


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


def enabled_by() -> list[str]:
    """Modules whose import re-enabled the GIL, in the order they were seen."""
    with _lock:
        return list(_modules)


def started_by_site_hook() -> bool:
    """Whether the ``.pth`` hook installed the watch at interpreter start (before any server import)."""
    return _from_site


def installed() -> bool:
    """Whether the watch is in place (installed by this module or by the .pth hook)."""
    hook = getattr(warnings, "_showwarnmsg", None)
    return bool(getattr(hook, _MARK, False) or getattr(warnings.showwarning, _MARK, False))


def install(site_hook: bool = False) -> None:
    """Hook the warnings machinery so GIL re-enablement is recorded. Idempotent.

    ``site_hook`` is true only for the call made by the ``.pth`` file at start-up.
    """
    global _from_site
    with _lock:
        _from_site = _from_site or site_hook
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
