"""The audit's probe: runs inside the audited interpreter, one fresh process per question.

Run as a file, never imported by the lab: ``python -P probe.py REQUEST_JSON OUT_PATH``
(``-P`` keeps this directory off ``sys.path``, so nothing here can shadow a module of
the audited app). Standard library only: it runs in the app environments, on 3.14 and
3.14t, with none of the lab's dependencies.

Two modes, chosen by the request's ``mode``:

- ``list``: every installed distribution with its top-level names and the extension
  modules its RECORD lists;
- ``import``: import each target in order, recording the GIL state before and after
  each one, and who imported every module that emitted CPython's "GIL has been
  enabled" RuntimeWarning.

The answer is one JSON object written to OUT_PATH (stdout and stderr are left to the
interpreter, whose ``-v`` output the lab also reads).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import sys
import sysconfig
import time
import traceback
import warnings
from typing import Any

MESSAGE = "The global interpreter lock (GIL) has been enabled to load module"
SUFFIXES = tuple(sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True))
IMPORTLIB_DIR = os.path.dirname(importlib.__file__) + os.sep


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def _extension_module(parts: tuple[str, ...], leaf: str) -> list[str] | None:
    """``('pkg', 'sub'), 'mod.cpython-314t-x86_64-linux-gnu.so'`` -> ``['pkg', 'sub', 'mod']``; None if not one."""
    suffix = next((s for s in SUFFIXES if leaf.endswith(s)), None)
    if suffix is None:
        return None
    dotted = [*parts, leaf[: -len(suffix)]]
    return dotted if all(p.isidentifier() for p in dotted) else None


def _importable(name: str, site: list[str]) -> bool:
    """Whether a top-level name exists on the path as a package, a module or an extension."""
    for directory in site:
        base = os.path.join(directory, name)
        if os.path.exists(base) or os.path.exists(base + ".py") or any(os.path.exists(base + s) for s in SUFFIXES):
            return True
    return False


def listing() -> list[dict[str, Any]]:
    """Every distribution: name, version, importable top-level names and extension modules."""
    from importlib import metadata

    site = [os.path.realpath(p) for p in sys.path if p]
    out: list[dict[str, Any]] = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        top: set[str] = set()
        exts: list[dict[str, str]] = []
        for line in (dist.read_text("top_level.txt") or "").splitlines():
            if line.strip().isidentifier():
                top.add(line.strip())
        for path in dist.files or ():
            parts = path.parts
            if not parts or parts[0] == ".." or "__pycache__" in parts:
                continue
            if parts[0].endswith((".dist-info", ".egg-info", ".data")):
                continue
            leaf = parts[-1]
            dotted = _extension_module(parts[:-1], leaf)
            if dotted:
                exts.append({"module": ".".join(dotted), "file": os.path.realpath(str(path.locate()))})
                top.add(dotted[0])
            elif len(parts) == 1 and leaf.endswith(".py") and leaf[:-3].isidentifier():
                top.add(leaf[:-3])
            elif len(parts) > 1 and parts[0].isidentifier():
                top.add(parts[0])
        out.append({"name": name, "version": dist.version, "top_level": sorted(t for t in top if _importable(t, site)),
                    "extensions": sorted(exts, key=lambda e: e["module"])})
    return sorted(out, key=lambda d: str(d["name"]).lower())


class WarningRecorder:
    """Records each "GIL has been enabled" warning with the first frame outside the import machinery."""

    def __init__(self) -> None:
        self.warned: list[dict[str, Any]] = []
        self.previous = warnings.showwarning

    def install(self) -> None:
        warnings.showwarning = self.hook
        warnings.filterwarnings("always", message=MESSAGE, category=RuntimeWarning)

    def hook(self, message: Any, category: Any, filename: str, lineno: int, file: Any = None,
             line: Any = None) -> None:
        text = str(message)
        if isinstance(category, type) and issubclass(category, RuntimeWarning) and text.startswith(MESSAGE):
            frames = [f for f in traceback.extract_stack()[:-1]
                      if not f.filename.startswith(("<frozen", IMPORTLIB_DIR))
                      and not f.filename.endswith(("warnings.py", "gilwatch.py", "probe.py"))]
            importer = frames[-1] if frames else None
            self.warned.append({
                "module": text[len(MESSAGE):].split("'")[1],
                "message": text,
                "imported_by": None if importer is None or importer.filename == "<string>"
                else f"{importer.filename}:{importer.lineno}",
            })
        self.previous(message, category, filename, lineno, file, line)


def loaded_extensions() -> dict[str, str]:
    """Every extension module in ``sys.modules``, with the file it was loaded from."""
    found = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) and spec.origin:
            found[name] = os.path.realpath(spec.origin)
    return found


def import_targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Import each target; one failure never hides the rest (SystemExit included)."""
    steps = []
    for target in targets:
        before, error, started = gil_enabled(), None, time.perf_counter()
        try:
            module = importlib.import_module(target["module"])
            if target.get("attr"):
                getattr(module, target["attr"])
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = f"{type(exc).__name__}: {exc}"[:4000]
        steps.append({"module": target["module"], "attr": target.get("attr"), "gil_before": before,
                      "gil_after": gil_enabled(), "error": error, "seconds": round(time.perf_counter() - started, 3)})
    return steps


def answer(request: dict[str, Any], gil_at_start: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "executable": sys.executable, "free_threaded": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
        "gil_flag": getattr(sys.flags, "gil", None), "python_gil_env": os.environ.get("PYTHON_GIL"),
        "gil_at_start": gil_at_start,
    }
    if request["mode"] == "list":
        result["distributions"] = listing()
    else:
        recorder = WarningRecorder()
        recorder.install()
        result.update(steps=import_targets(request["imports"]), warned=recorder.warned,
                      extensions=loaded_extensions())
    result["gil_at_end"] = gil_enabled()
    return result


def main(argv: list[str]) -> int:
    gil_at_start = gil_enabled()  # before anything else is imported
    request, out_path = json.loads(argv[1]), argv[2]
    result = answer(request, gil_at_start)
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
