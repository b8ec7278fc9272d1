"""The servers the lab can run: one module per server in this package, found at call time.

Each module defines ``SERVER``, a :class:`~loadtests.core.server_spec.ServerSpec`, and
nothing in the lab lists them: the registry imports every module here the first time
it is asked, so the ``--servers`` choices, ``--help``, presets, records, set-up and the
report all see the same servers. Adding one is a module here plus its lock lines
(docs/adding-a-server.md). A directory on ``sys.path`` that holds
``loadtests/core/servers/NAME.py`` adds its modules too, as a portion of this package:
a server kept outside the lab's tree (and how the tests add a fake one).

Standard library only, like the rest of ``core``; a declaration never imports its server.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from functools import cache
from pathlib import Path

from loadtests.core.errors import ConfigError
from loadtests.core.server_spec import GilRefusal, ServerSpec, WorkerModel


def _portions(own: list[str]) -> list[str]:
    """This package's directory, then every other ``loadtests/core/servers/`` found on ``sys.path``."""
    found = (Path(entry, *__name__.split(".")) for entry in sys.path if entry)
    return list(dict.fromkeys([*own, *(str(d) for d in found if d.is_dir())]))


__path__ = _portions(list(__path__))

__all__ = ["DEFAULT_SERVER", "GilRefusal", "ServerSpec", "WorkerModel", "check_server", "names",
           "registered", "server_named"]

#: The server of a configuration that names none, and the first one listed.
DEFAULT_SERVER = "uvicorn"


@cache
def registered() -> tuple[ServerSpec, ...]:
    """Every declared server: the default first, then by name."""
    specs = [_declaration(module.name) for module in pkgutil.iter_modules(__path__)]
    return tuple(sorted(specs, key=lambda spec: (spec.name != DEFAULT_SERVER, spec.name)))


def _declaration(module_name: str) -> ServerSpec:
    where = f"{__name__}.{module_name}"
    spec = getattr(importlib.import_module(where), "SERVER", None)
    if not isinstance(spec, ServerSpec):
        raise ConfigError(f"{where} declares no server: a module there must define SERVER = ServerSpec(...) "
                          "(docs/adding-a-server.md)")
    if spec.name.replace("-", "_") != module_name:
        raise ConfigError(f"{where} declares the server {spec.name!r}: name the module after its server")
    return spec


def names() -> tuple[str, ...]:
    """The servers' names, in the order --help and reports list them."""
    return tuple(spec.name for spec in registered())


def server_named(name: str) -> ServerSpec:
    """The declaration of ``name``; a clear error for a server the lab does not know."""
    for spec in registered():
        if spec.name == name:
            return spec
    raise ConfigError(f"unknown server {name!r}; choose from {', '.join(names())}")


def check_server(name: str) -> str:
    """``name`` when the lab knows that server; ConfigError otherwise."""
    return server_named(name).name
