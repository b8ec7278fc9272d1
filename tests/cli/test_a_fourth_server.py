"""Adding a server is one module: a fourth one, dropped where the registry looks, shows in --help and in the plan.

The module lives in a temporary ``loadtests/core/servers/`` put on ``PYTHONPATH``, a
portion of the same package (docs/adding-a-server.md): the lab's tree is not touched,
and nothing in the lab is patched. The real ``gil-lab`` command reads it in a fresh
process, as it reads uvicorn's module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup

pytestmark = pytest.mark.slow

FAKE_SERVER = '''"""fakeserve: a server the lab does not ship; its workers are threads with a loop each on 3.14t."""

from loadtests.core.server_launch import Launch
from loadtests.core.server_spec import ServerSpec


def command(launch: Launch) -> list[str]:
    return [launch.script("fakeserve"), "--port", str(launch.port), "--workers", str(launch.workers), launch.target]


SERVER = ServerSpec(
    name="fakeserve",
    description="a test's fake, worker threads on 3.14t",
    distribution="fakeserve",
    requirements=("fakeserve>=1.0",),
    workers_with_gil="processes",
    workers_free_threaded="threads",
    command=command,
)
'''

PLAN = """
import json
from loadtests.plan.presets import apply_overrides, load_preset
from loadtests.provision import envs
from loadtests.workflow.run import RunRequest

request = RunRequest(preset="default", scenarios="json", servers="fakeserve")
plan = apply_overrides(load_preset(request.preset), request.overrides())
print(json.dumps({"configs": [[c.config_id, c.parallelism] for c in plan.configs],
                  "requirements": envs.requirements("app-ft")}))
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugin")
    package = root / "loadtests" / "core" / "servers"
    package.mkdir(parents=True)
    (package / "fakeserve.py").write_text(FAKE_SERVER)
    return root


def with_plugin(root: Path) -> dict[str, str]:
    """The lab's checkout first, so its regular package wins over the portion in ``root`` (its editable install
    is found by a finder that comes after ``sys.path``)."""
    return lab_env(PYTHONPATH=os.pathsep.join((str(PROJECT_ROOT), str(root))))


def test_a_fourth_server_module_shows_in_help(plugin_path: Path) -> None:
    require_setup()

    def help_of(command: str, env: dict[str, str]) -> str:
        return subprocess.run([str(GIL_LAB), command, "--help"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=60, check=True).stdout

    compare = " ".join(help_of("compare", with_plugin(plugin_path)).split())  # click wraps the help text
    assert "--servers TEXT Only these servers, comma-separated: uvicorn, fakeserve, granian, hypercorn." in compare
    assert "[uvicorn|fakeserve|granian|hypercorn]" in help_of("serve", with_plugin(plugin_path))
    assert "fakeserve" not in help_of("serve", lab_env())  # the control: the module, not the test, put it there


def test_a_fourth_server_is_planned_with_the_presets_first_servers_configurations(plugin_path: Path) -> None:
    require_setup()
    python = PROJECT_ROOT / ".venv" / "bin" / "python"
    result = subprocess.run([str(python), "-c", PLAN], cwd=PROJECT_ROOT, env=with_plugin(plugin_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)
    ids = {config_id: parallelism for config_id, parallelism in planned["configs"]}
    assert ids and all("/fakeserve/" in config_id for config_id in ids)
    several = {i: p for i, p in ids.items() if "/w1/" not in i}  # the default preset's N-process baseline
    assert several and all(p == ("threads" if "/3.14t/" in i else "processes") for i, p in several.items())
    assert "fakeserve>=1.0" in planned["requirements"]  # its lock lines come from the declaration


def test_a_module_that_declares_no_server_is_named_in_the_error(tmp_path: Path) -> None:
    package = tmp_path / "loadtests" / "core" / "servers"
    package.mkdir(parents=True)
    (package / "half_done.py").write_text('"""Forgot SERVER."""\n')
    code = "from loadtests.core import servers\nservers.names()"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=with_plugin(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "loadtests.core.servers.half_done declares no server" in result.stderr
