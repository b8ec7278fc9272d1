"""Find drop-in route modules: ``app/routes/*.py`` and every ``LAB_ROUTES_DIR``.

A drop-in module exports ``router`` (a FastAPI ``APIRouter``) and may export
``LOAD`` (a list of ``LoadRequest``). Modules whose name starts with ``_`` are
helpers and are not discovered. Discovery is all-or-nothing: a module that fails to
import, has no router, has a bad ``LOAD``, shares its short name with another
drop-in, or declares a route another module already serves raises
:class:`RouteDiscoveryError` naming the file, and the server exits instead of
serving half an app.

A module's *short name* is its file stem (``orders`` for ``orders.py``). It is the
key the lab uses everywhere: the ``module`` field of ``GET /lab/loads``, the
scenario name of ``gil-lab compare --scenario orders`` and ``LAB_LOAD_MODULE``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from .errors import RouteDiscoveryError
from .loadspec import LoadRequest

BUILTIN_PACKAGE = "app.routes"


@dataclass(frozen=True)
class DropIn:
    """A discovered module: its short name, where it came from, its router and its load spec."""

    name: str
    module: str
    file: str
    router: APIRouter
    loads: tuple[LoadRequest, ...]


def discover(dirs: Sequence[Path] = ()) -> list[DropIn]:
    """Import every drop-in module, in ``app/routes`` then each directory, sorted by name."""
    found = [_inspect(name, _import_package_module, name) for name in _package_modules()]
    for directory in dirs:
        for path in sorted(Path(directory).glob("*.py")):
            if not path.name.startswith("_"):
                found.append(_inspect(str(path), _import_file, path))
    _check_unique_names(found)
    return found


def _check_unique_names(found: Iterable[DropIn]) -> None:
    """Two modules with one short name would be one scenario name for two route sets."""
    seen: dict[str, str] = {}
    for drop_in in found:
        if drop_in.name in seen:
            raise RouteDiscoveryError(
                f"{drop_in.file}: another drop-in module is also named {drop_in.name!r} ({seen[drop_in.name]}); "
                "rename one, the short name is its scenario name"
            )
        seen[drop_in.name] = drop_in.file


def _package_modules() -> Iterator[str]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if not info.name.startswith("_"):
            yield f"{BUILTIN_PACKAGE}.{info.name}"


def _import_package_module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _import_file(path: Path) -> ModuleType:
    """Import a file as ``lab_routes_<stem>_<hash>``, with its directory importable for helpers."""
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    name = f"lab_routes_{resolved.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {resolved} as a Python module")
    if str(resolved.parent) not in sys.path:
        sys.path.append(str(resolved.parent))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _inspect(label: str, load: Callable[[Any], ModuleType], target: Any) -> DropIn:
    """Import one module and check what it exports; every failure names the file."""
    try:
        module = load(target)
    except Exception as error:
        raise RouteDiscoveryError(
            f"{_file_of(label, target)}: import failed: {type(error).__name__}: {error}"
        ) from error
    file = _file_of(label, target, module)
    router = getattr(module, "router", None)
    if not isinstance(router, APIRouter):
        got = "nothing" if router is None else type(router).__name__
        raise RouteDiscoveryError(f"{file}: a drop-in module must export an APIRouter named 'router' (found {got})")
    loads = getattr(module, "LOAD", ())
    if not isinstance(loads, list | tuple) or not all(isinstance(item, LoadRequest) for item in loads):
        raise RouteDiscoveryError(f"{file}: LOAD must be a list of app.loadspec.LoadRequest")
    for item in loads:
        if not _served_by(router, item):
            raise RouteDiscoveryError(f"{file}: LOAD entry {item.label!r} matches no route of this module's router")
    name = target.stem if isinstance(target, Path) else label.rsplit(".", 1)[-1]
    return DropIn(name=name, module=module.__name__, file=file, router=router, loads=tuple(loads))


def _file_of(label: str, target: object, module: ModuleType | None = None) -> str:
    if module is not None and getattr(module, "__file__", None):
        return str(module.__file__)
    if isinstance(target, Path):
        return str(target)
    spec = importlib.util.find_spec(label) if "." in label else None
    return str(spec.origin) if spec and spec.origin else label


def _served_by(router: APIRouter, item: LoadRequest) -> bool:
    """Whether a route of ``router`` matches the spec's method and path."""
    method = "GET" if item.method == "HEAD" else item.method
    return any(route.path_regex.match(item.path) and method in route.methods for route in _api_routes(router.routes))


def _api_routes(routes: Iterable[object]) -> Iterator[APIRoute]:
    return (route for route in routes if isinstance(route, APIRoute))


def check_unique_routes(owners: Iterable[tuple[str, APIRouter]]) -> None:
    """Refuse two owners (files) declaring the same method and path: one would shadow the other."""
    seen: dict[tuple[str, str], str] = {}
    for owner, router in owners:
        for route in _api_routes(router.routes):
            for method in sorted(route.methods):
                key = (method, route.path)
                if seen.get(key, owner) != owner:
                    raise RouteDiscoveryError(f"{owner}: {method} {route.path} is already served by {seen[key]}")
                seen[key] = owner
