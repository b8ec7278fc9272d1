"""Which of this process's modules were loaded from bytecode, and which were compiled from source.

On 3.14t a module's constants are immortal only when the module came from a ``.pyc``,
so ``/lab/runtime`` reports how the server loaded its modules: the lab compares it with
the bytecode state it prepared. A module with a source file counts as loaded from
bytecode when a valid ``.pyc`` for it is where an import looks (under
``sys.pycache_prefix`` when one is set). The lab's servers run with
``PYTHONDONTWRITEBYTECODE=1``, so a ``.pyc`` cannot have appeared after the import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

#: Names of modules compiled from source, reported at most.
SHOWN = 20
_cache: dict[int, dict[str, Any]] = {}


def has_valid_pyc(source: str) -> bool:
    """Whether an import of ``source`` would find a valid .pyc (timestamp-checked, or hash-based)."""
    try:
        cache = importlib.util.cache_from_source(source)
        with open(cache, "rb") as fh:
            header = fh.read(16)
        stat = os.stat(source)
    except (OSError, ValueError, NotImplementedError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") != 0:
        return True
    return (int.from_bytes(header[8:12], "little") == (int(stat.st_mtime) & 0xFFFFFFFF)
            and int.from_bytes(header[12:16], "little") == (stat.st_size & 0xFFFFFFFF))


def report() -> dict[str, Any]:
    """The ``bytecode`` part of ``/lab/runtime`` (recomputed only when modules were imported since)."""
    modules = list(sys.modules.items())
    cached = _cache.get(len(modules))
    if cached is not None:
        return cached
    from_bytecode = 0
    from_source = []
    for name, module in modules:
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if not isinstance(origin, str) or not origin.endswith(".py") or not getattr(spec, "has_location", False):
            continue  # built-in, frozen, an extension, a namespace package
        if has_valid_pyc(origin):
            from_bytecode += 1
        else:
            from_source.append(name)
    result = {"pycache_prefix": sys.pycache_prefix, "dont_write_bytecode": bool(sys.flags.dont_write_bytecode),
              "from_bytecode": from_bytecode, "from_source": len(from_source),
              "source_modules": sorted(from_source)[:SHOWN]}
    _cache.clear()
    _cache[len(modules)] = result
    return result
