"""The server registry: every module in loadtests/core/servers/ is one server, and says all the lab needs."""

from __future__ import annotations

import ast
import pkgutil
import sys
from pathlib import Path

import pytest

from loadtests.core import servers
from loadtests.core.errors import ConfigError
from loadtests.core.flavour import FT, GIL
from loadtests.core.server_launch import Launch
from loadtests.core.server_spec import ServerSpec

LAUNCH = Launch(Path("/envs/app-gil/bin/python"), "gil_lab_layer.serve:app", "127.0.0.1", 8123, 2, "auto", "uvloop")


def test_every_module_of_the_package_is_a_server_listed_default_first() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(servers.__path__))
    assert servers.names() == ("uvicorn", "granian", "hypercorn")
    assert sorted(servers.names()) == modules
    assert servers.names()[0] == servers.DEFAULT_SERVER


def test_an_unknown_server_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown server 'nginx'; choose from uvicorn, granian, hypercorn"):
        servers.server_named("nginx")
    assert servers.check_server("hypercorn") == "hypercorn"


def test_the_command_lines_are_what_a_user_would_type() -> None:
    uvicorn = servers.server_named("uvicorn").command(LAUNCH)
    assert uvicorn[:4] == ["/envs/app-gil/bin/python", "-m", "uvicorn", "gil_lab_layer.serve:app"]
    assert uvicorn[uvicorn.index("--workers") + 1] == "2" and uvicorn[uvicorn.index("--loop") + 1] == "uvloop"
    granian = servers.server_named("granian").command(LAUNCH)
    assert granian[0] == "/envs/app-gil/bin/granian" and granian[-1] == "gil_lab_layer.serve:app"
    assert granian[granian.index("--port") + 1] == "8123"
    assert servers.server_named("hypercorn").command(LAUNCH) == [
        "/envs/app-gil/bin/hypercorn", "--bind", "127.0.0.1:8123", "--workers", "2", "--worker-class", "uvloop",
        "--log-level", "warning", "--graceful-timeout", "5", "gil_lab_layer.serve:app"]


def test_hypercorn_binds_an_ipv6_address_in_brackets_and_runs_asyncio_by_default() -> None:
    launch = Launch(Path("python"), "a:b", "::1", 80, 1, "auto", "auto")
    command = servers.server_named("hypercorn").command(launch)
    assert command[command.index("--bind") + 1] == "[::1]:80"
    assert command[command.index("--worker-class") + 1] == "asyncio"


@pytest.mark.parametrize(("server", "gil", "free_threaded"), [
    ("uvicorn", "processes", "processes"), ("granian", "processes", "threads"), ("hypercorn", "processes", "processes")])
def test_each_server_says_what_its_workers_are_on_each_interpreter(server: str, gil: str, free_threaded: str) -> None:
    spec = servers.server_named(server)
    assert (spec.worker_model(GIL), spec.worker_model(FT)) == (gil, free_threaded)
    assert spec.parallelism(FT, 1) == "threads"  # one worker: one process and its anyio thread pool
    assert spec.answering_processes(GIL, 4) == 4
    assert spec.answering_processes(FT, 4) == (4 if free_threaded == "processes" else 1)


def test_only_granian_declares_a_refusal_and_it_is_recognised_in_its_log() -> None:
    granian = servers.server_named("granian")
    refused = granian.refusal_in("boom\nRuntimeError: Cannot run a free-threaded Granian build with GIL enabled\n")
    assert refused == "granian refuses to run a free-threaded build with the GIL enabled"
    assert granian.refusal_in("ModuleNotFoundError: No module named 'app'") is None
    assert [s.name for s in servers.registered() if s.gil_refusal] == ["granian"]
    assert servers.server_named("hypercorn").refusal_in("Cannot run a free-threaded Granian build with GIL enabled") is None


def test_the_version_is_read_whatever_the_spelling_of_the_distribution() -> None:
    spec = servers.server_named("hypercorn")
    assert spec.version_in({"Hypercorn": "0.18.0", "uvicorn": "0.54.0"}) == "0.18.0"
    assert spec.version_in({"uvicorn": "0.54.0"}) is None


def test_each_server_brings_its_own_requirements_into_the_app_environments() -> None:
    from loadtests.provision import envs

    lines = envs.requirements("app-ft")
    for spec in servers.registered():
        assert spec.requirements[0].startswith(spec.distribution)
        assert set(spec.requirements) <= set(lines)


@pytest.mark.parametrize("bad", [{"name": "Bad Name"}, {"workers_free_threaded": "fibres"}, {"requirements": ()}])
def test_a_malformed_declaration_is_refused_when_it_is_built(bad: dict) -> None:
    fields = {"name": "x", "description": "d", "distribution": "x", "requirements": ("x",),
              "workers_with_gil": "processes", "workers_free_threaded": "processes", "command": lambda _l: []}
    with pytest.raises(ValueError):
        ServerSpec(**{**fields, **bad})


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", [*(Path(p) for p in servers.__path__ for p in Path(p).glob("*.py")),
                                    Path(servers.__file__).parent.parent / "server_spec.py",
                                    Path(servers.__file__).parent.parent / "server_launch.py"],
                         ids=lambda p: p.name)
def test_declarations_import_only_the_standard_library_and_core(module: Path) -> None:
    """What the import contract cannot say for a module added later: nothing but the standard library and core."""
    for name in _imports(module):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("loadtests.core"), f"{module.name} imports {name}"
