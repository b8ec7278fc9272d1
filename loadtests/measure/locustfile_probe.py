"""Load a team's Locust file the way Locust does and describe it: ``python -P locustfile_probe.py FILE``.

Run in its own process of the control plane's interpreter, never imported by the lab:
importing Locust patches the standard library for gevent, and the team's file runs
its own module-level code. It prints one JSON object on stdout:

- ``user_classes``: every User class Locust would run, with its weight, fixed_count,
  ``wait_time`` (described as ``between(0.05, 0.2)`` for Locust's own helpers, else the
  function's name) and tasks with their weights;
- ``shape_classes``: the LoadTestShape classes it defines;
- ``error``: why the file could not be loaded (the exception and the last lines of its
  traceback), or null.

Exit status 0 when the file loaded (whatever it contains), 1 when it did not.
"""

from __future__ import annotations

import inspect
import json
import sys
import traceback
from collections import Counter
from typing import Any

TRACEBACK_LINES = 12
#: Locust's wait-time helpers: a class's wait_time made by one of them is described by its arguments.
WAIT_HELPERS = ("between", "constant", "constant_pacing", "constant_throughput")


def describe_wait_time(user_class: type) -> str:
    """``between(0.05, 0.2)`` for Locust's helpers; ``module.qualname`` for anything else."""
    import locust

    function = getattr(user_class, "wait_time", None)
    if function is None:
        return "none"
    qualname = getattr(function, "__qualname__", type(function).__qualname__)
    helper = qualname.split(".<locals>", 1)[0]
    if helper in WAIT_HELPERS and getattr(function, "__module__", "") == "locust.user.wait_time":
        names = list(inspect.signature(getattr(locust, helper)).parameters)
        cells = dict(zip(function.__code__.co_freevars, (c.cell_contents for c in function.__closure__ or ()),
                         strict=False))
        return f"{helper}({', '.join(f'{cells[name]:g}' for name in names if name in cells)})"
    return f"{getattr(function, '__module__', '?')}.{qualname}"


def describe_tasks(tasks: list[Any]) -> list[dict[str, Any]]:
    """Locust repeats a task once per unit of weight; count the repeats, keep the order."""
    weights = Counter(tasks)
    return [{"name": getattr(task, "__name__", repr(task)), "weight": weights[task]} for task in dict.fromkeys(tasks)]


def describe(path: str) -> dict[str, Any]:
    from locust.util.load_locustfile import load_locustfile

    try:
        user_classes, shapes = load_locustfile(path)
    except BaseException as error:  # the team's module code: SystemExit included
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip()
        return {"user_classes": [], "shape_classes": [], "error":
                f"{type(error).__name__}: {error}\n" + "\n".join(text.splitlines()[-TRACEBACK_LINES:])}
    return {
        "user_classes": [{"name": name, "weight": int(getattr(cls, "weight", 1)),
                          "fixed_count": int(getattr(cls, "fixed_count", 0)), "wait_time": describe_wait_time(cls),
                          "tasks": describe_tasks(list(getattr(cls, "tasks", [])))}
                         for name, cls in user_classes.items()],
        "shape_classes": [type(shape).__name__ for shape in shapes],
        "error": None,
    }


def main(argv: list[str]) -> int:
    report = describe(argv[1])
    sys.stdout.write(json.dumps(report) + "\n")
    return 1 if report["error"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
