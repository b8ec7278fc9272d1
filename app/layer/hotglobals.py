"""The module globals an endpoint reads, and whether each is immortal here.

On free-threaded 3.14t an object read by many threads has its reference count
written by all of them unless it is immortal; CPython makes a module's constants
immortal when it loads the module from a ``.pyc``, not when it compiles the module
from source (``PYTHONDONTWRITEBYTECODE=1``, a read-only tree, a first start). A
constant like ``_MODULUS`` read on every iteration of a hot loop then becomes a
contended object.

:func:`global_reads` follows an endpoint's bytecode: every ``LOAD_GLOBAL`` (and the
attributes read from a module it names, ``compute_work.pure``), into the functions of
the app's own code it calls, a few calls deep. Each value that is data (not a function,
class or module) is reported with ``sys._is_immortal`` where the interpreter has it.
It reads code objects only: nothing of the app is called.
"""

from __future__ import annotations

import dis
import inspect
import os
import sys
import types
from collections.abc import Iterator
from typing import Any

#: Calls followed from the endpoint into the app's own functions.
MAX_DEPTH = 3
MAX_FUNCTIONS = 60
_REPR_CHARS = 40


def is_immortal(value: object) -> bool | None:
    """``sys._is_immortal(value)``, or None where the interpreter cannot tell."""
    check = getattr(sys, "_is_immortal", None)
    return None if check is None else bool(check(value))


def _library_dirs() -> tuple[str, ...]:
    """Where the standard library and installed packages live: not the app's own code."""
    found = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found |= {os.path.realpath(p) for p in sys.path if "site-packages" in p or "dist-packages" in p}
    return tuple(sorted(found))


def is_app_code(code: types.CodeType, app_dir: str, libraries: tuple[str, ...]) -> bool:
    path = os.path.realpath(code.co_filename)
    inside = path.startswith(os.path.realpath(app_dir) + os.sep)
    return inside and not any(path.startswith(lib + os.sep) for lib in libraries) and "site-packages" not in path


def unwrap(endpoint: Any) -> types.FunctionType | None:
    """The plain function behind decorators, partials and bound methods, or None."""
    seen = 0
    while seen < 10:
        seen += 1
        if isinstance(endpoint, types.FunctionType):
            wrapped = getattr(endpoint, "__wrapped__", None)
            if wrapped is None:
                return endpoint
            endpoint = wrapped
        elif isinstance(endpoint, types.MethodType):
            endpoint = endpoint.__func__
        elif hasattr(endpoint, "func"):  # functools.partial
            endpoint = endpoint.func
        else:
            return None
    return None


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A code object and the nested ones it holds (lambdas, inner functions, generator bodies)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _resolved(code: types.CodeType, namespace: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted name, object) for each global read in ``code``, following attribute reads on modules."""
    chain: list[str] = []
    current: Any = None
    for instruction in dis.get_instructions(code):
        name = instruction.argval if isinstance(instruction.argval, str) else None
        if instruction.opname.startswith("LOAD_GLOBAL") and name is not None:
            if chain:
                yield ".".join(chain), current
            # a name missing from the module's namespace is a builtin: neither the app's code nor its data
            chain, current = ([name], namespace[name]) if name in namespace else ([], None)
        elif chain and instruction.opname.startswith("LOAD_ATTR") and name is not None and \
                isinstance(current, types.ModuleType):
            chain.append(name)
            current = getattr(current, name, None)
        elif chain:
            yield ".".join(chain), current
            chain, current = [], None
    if chain:
        yield ".".join(chain), current


def _is_data(value: object) -> bool:
    return not (callable(value) or isinstance(value, types.ModuleType) or value is None)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_CHARS else text[: _REPR_CHARS - 1] + "…"


def global_reads(endpoint: Any, app_dir: str) -> list[dict[str, Any]]:
    """Every data global the endpoint and the app functions it calls read, once per (function, name)."""
    start = unwrap(endpoint)
    if start is None:
        return []
    libraries = _library_dirs()
    queue: list[tuple[types.FunctionType, int]] = [(start, 0)]
    visited: set[types.CodeType] = set()
    out: list[dict[str, Any]] = []
    while queue and len(visited) < MAX_FUNCTIONS:
        function, depth = queue.pop(0)
        if function.__code__ in visited:
            continue
        visited.add(function.__code__)
        owner = f"{function.__module__}.{function.__qualname__}"
        seen: set[str] = set()
        for code in _codes(function.__code__):
            for dotted, value in _resolved(code, function.__globals__):
                callee = unwrap(value) if callable(value) and not inspect.isclass(value) else None
                if callee is not None:
                    if depth < MAX_DEPTH and is_app_code(callee.__code__, app_dir, libraries):
                        queue.append((callee, depth + 1))
                elif _is_data(value) and dotted not in seen:
                    seen.add(dotted)
                    out.append({"function": owner, "name": dotted, "type": type(value).__name__,
                                "value": _short(value), "immortal": is_immortal(value)})
    return out


def snapshot(endpoints: list[tuple[str, Any]], app_dir: str) -> dict[str, Any]:
    """The ``/lab/globals`` body: per route, its endpoint and the data globals it reads, as this process holds
    them (whether the server's own modules came from a .pyc decides their immortality)."""
    out = []
    for route, endpoint in endpoints:
        target = unwrap(endpoint)
        reads = global_reads(endpoint, app_dir)
        if reads:
            name = f"{target.__module__}.{target.__qualname__}" if target is not None else None
            out.append({"route": route, "endpoint": name, "globals": reads})
    return {"endpoints": out}
