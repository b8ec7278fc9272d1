"""Compile source trees into a bytecode cache prefix, run by the interpreter the servers will use.

Usage: ``PYTHONPYCACHEPREFIX=PREFIX python bytecode_worker.py '<json list of {"kind", "path"}>'``
(the variable, not an assignment in here, so ``compileall``'s worker processes get it too); it prints one
JSON list, a result per tree: ``kind``, ``path``, ``files``, ``compiled``, ``failed``,
``seconds``. Standard library only: it runs in the bare app interpreters.

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
from concurrent.futures import ProcessPoolExecutor

#: Directories left out of every tree (matched below the tree's root): caches, version control, other
#: environments inside a team's checkout, and what no server imports.
ALWAYS_SKIP = re.compile(r"/(__pycache__|\.git|\.hg|\.venv|venv|\.envs|\.tox|\.nox|node_modules)/")
#: Also left out of the standard library: its test suite, its GUI tools and the base interpreter's own packages.
STDLIB_SKIP = re.compile(ALWAYS_SKIP.pattern[:-2] + r"|test|tests|idlelib|tkinter|turtledemo|site-packages)/")


def is_current(source: str) -> bool:
    """Whether ``source`` has a valid timestamp-based .pyc under the prefix (what an import would load)."""
    try:
        cache = importlib.util.cache_from_source(source)
        with open(cache, "rb") as fh:
            header = fh.read(16)
        stat = os.stat(source)
    except (OSError, ValueError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") != 0:  # hash-based: valid as far as an import is concerned
        return True
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime == (int(stat.st_mtime) & 0xFFFFFFFF) and size == (stat.st_size & 0xFFFFFFFF)


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


def compile_tree(kind: str, path: str) -> dict[str, object]:
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
    trees = json.loads(sys.argv[1])
    results = [compile_tree(t["kind"], t["path"]) for t in trees if os.path.isdir(t["path"])]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
