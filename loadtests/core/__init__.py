"""Errors, paths, progress, the interpreter flavours and the server declarations every stage shares.

Imports nothing of the lab's other stages and nothing outside the standard library.
The names below are what the other stages (and a script using the lab) rely on; the
modules hold the rest.
"""

from loadtests.core.errors import (
    ConfigError,
    EnvironmentSetupError,
    InterpreterError,
    LabError,
    LoadGeneratorError,
    ResultsError,
    ServerError,
    ServerRefused,
)
from loadtests.core.flavour import FLAVOURS, FT, GIL, Flavour, by_label, by_role
from loadtests.core.paths import LAB_ROOT, results_dir
from loadtests.core.server_spec import GilRefusal, ServerSpec, WorkerModel
from loadtests.core.servers import DEFAULT_SERVER, check_server, server_named
from loadtests.core.servers import names as server_names
from loadtests.core.servers import registered as registered_servers

__all__ = [
    "DEFAULT_SERVER",
    "FLAVOURS",
    "FT",
    "GIL",
    "LAB_ROOT",
    "ConfigError",
    "EnvironmentSetupError",
    "Flavour",
    "GilRefusal",
    "InterpreterError",
    "LabError",
    "LoadGeneratorError",
    "ResultsError",
    "ServerError",
    "ServerRefused",
    "ServerSpec",
    "WorkerModel",
    "by_label",
    "by_role",
    "check_server",
    "registered_servers",
    "results_dir",
    "server_named",
    "server_names",
]
