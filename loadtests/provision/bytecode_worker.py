"""Compile source trees into a bytecode cache prefix, run by the interpreter the servers will use.

Usage: ``PYTHONPYCACHEPREFIX=PREFIX python bytecode_worker.py PYC_CHECK '<json list of {"kind", "path"}>'``
(the variable, not an assignment in here, so the compiling processes get it too). PYC_CHECK is
the layer's ``bytecode.py``: a file counts as compiled exactly when a server would say it
loaded it from bytecode. It prints one JSON list, a result per tree: ``kind``, ``path``,
``files``, ``compiled``, ``failed``, ``seconds``. Standard library only: it runs in the
bare app interpreters.

Every ``.pyc`` goes under PREFIX (``sys.pycache_prefix``), never beside its source, so a
read-only tree or a team's own checkout is never written to. The pycs are timestamp-based
whatever ``SOURCE_DATE_EPOCH`` says, so a server's import checks them exactly as an
ordinary install's, and a tree already compiled costs only the check.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import py_compile
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

#: Directories left out of every tree (matched below the tree's root): caches, version control, other
#: environments inside a team's checkout, and what no server imports.
ALWAYS_SKIP = re.compile(r"/(__pycache__|\.git|\.hg|\.venv|venv|\.envs|\.tox|\.nox|node_modules)/")
#: Also left out of the standard library: its test suite, its GUI tools and the base interpreter's own packages.
STDLIB_SKIP = re.compile(ALWAYS_SKIP.pattern[:-2] + r"|test|tests|idlelib|tkinter|turtledemo|site-packages)/")


def load_check(path: str) -> Callable[[str], bool]:
    """``has_valid_pyc`` of the layer's module at ``path``, loaded by its path (the layer may not be installed)."""
    spec = importlib.util.spec_from_file_location("gil_lab_pyc_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.has_valid_pyc  # type: ignore[no-any-return]


def sources(path: str, skip: re.Pattern[str]) -> list[str]:
    """The .py files under ``path``, without the directories ``skip`` matches below it."""
    out = []
    for root, dirs, files in os.walk(path):
        rel = os.path.relpath(root, path)
        below = "/" if rel == "." else "/" + rel.replace(os.sep, "/") + "/"
        dirs[:] = [d for d in dirs if not skip.search(f"{below}{d}/")]
        out += [os.path.join(root, f) for f in files if f.endswith(".py")]
    return out


def compile_one(source: str) -> None:
    """Compile one file; one that cannot be compiled is counted as failed afterwards (it has no bytecode)."""
    with contextlib.suppress(py_compile.PyCompileError, OSError, ValueError):
        py_compile.compile(source, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)


def compile_tree(kind: str, path: str, is_current: Callable[[str], bool]) -> dict[str, object]:
    started = time.perf_counter()
    files = sources(path, STDLIB_SKIP if kind == "stdlib" else ALWAYS_SKIP)
    stale = [f for f in files if not is_current(f)]
    if len(stale) > 50:
        with ProcessPoolExecutor() as pool:  # its processes inherit PYTHONPYCACHEPREFIX
            list(pool.map(compile_one, stale, chunksize=32))
    else:
        for source in stale:
            compile_one(source)
    failed = sum(1 for f in stale if not is_current(f))
    return {"kind": kind, "path": path, "files": len(files), "compiled": len(stale) - failed, "failed": failed,
            "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    if not sys.pycache_prefix:
        raise SystemExit("PYTHONPYCACHEPREFIX is not set: refusing to write bytecode beside the sources")
    is_current = load_check(sys.argv[1])
    trees = json.loads(sys.argv[2])
    results = [compile_tree(t["kind"], t["path"], is_current) for t in trees if os.path.isdir(t["path"])]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
