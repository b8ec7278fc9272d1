"""The GIL trap under real servers on 3.14t: uvicorn serves with the GIL back on, granian refuses.

Each test starts a real server from the app-ft environment with
``scenarios/gil_trap_routes`` as a drop-in directory and ``LAB_TRAP_EXT_DIR`` pointing
at the trap built for 3.14t, exactly as the gil-trap preset does.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from loadtests.core.errors import ServerError, ServerRefused
from loadtests.measure.servers import ServerSettings, running_server
from loadtests.provision import gil_trap
from loadtests.provision.provisioning import load_interpreters
from tests.conftest import PROJECT_ROOT, require_setup

pytestmark = pytest.mark.slow

APP_FT = PROJECT_ROOT / ".envs" / "app-ft" / "bin" / "python"
TRAP_ROUTES = str(gil_trap.ROUTES_DIR)
#: What granian 2.x prints when the GIL is on in a free-threaded build.
GRANIAN_REFUSAL = "Cannot run a free-threaded Granian build with GIL enabled"


@pytest.fixture(scope="module")
def trap_env() -> dict[str, str]:
    """What the runner gets from the preset's ``prepare = ["gil_trap"]`` step."""
    require_setup()
    env = gil_trap.prepare(load_interpreters())
    assert list(env) == [gil_trap.ENV_VAR]
    assert list(Path(env[gil_trap.ENV_VAR]).glob("gil_lab_trap.cpython-314t-*.so"))
    return env


def settings(server: str, env: dict[str, str], routes: bool = True) -> ServerSettings:
    return ServerSettings(server=server, python=APP_FT, workers=1, threads=4,
                          routes_dirs=(TRAP_ROUTES,) if routes else (), extra_env=tuple(sorted(env.items())))


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def test_uvicorn_serves_with_the_gil_re_enabled_by_the_trap(trap_env: dict[str, str], tmp_path: Path) -> None:
    with running_server(settings("uvicorn", trap_env), tmp_path / "server.log") as server:
        runtime = server.runtime
        assert runtime is not None and runtime.free_threaded is True
        assert runtime.gil_enabled is True
        assert "gil_lab_trap" in runtime.gil_enabled_by
        trap = get_json(server.base_url + "/trap/json?records=500")
        builtin = get_json(server.base_url + "/json/synthetic?records=500")
        assert trap == builtin  # the same workload, only the module around it differs
        assert get_json(server.base_url + "/trap/spin?n=10")["state"] == 3660572683296592931
        assert "has been enabled to load module 'gil_lab_trap'" in server.log_tail(200)


def test_granian_refuses_to_start_on_3_14t_with_the_trap(trap_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with pytest.raises(ServerRefused) as refused, running_server(settings("granian", trap_env), log):
        pytest.fail("granian started although the GIL is enabled")
    assert GRANIAN_REFUSAL in str(refused.value)
    assert str(refused.value).startswith("granian refuses to run a free-threaded build with the GIL enabled: ")
    assert GRANIAN_REFUSAL in log.read_text()


def test_granian_starts_on_3_14t_without_the_trap(trap_env: dict[str, str], tmp_path: Path) -> None:
    """The control for the refusal: same server, same env, no trap routes."""
    with running_server(settings("granian", trap_env, routes=False), tmp_path / "server.log") as server:
        assert server.runtime is not None
        assert server.runtime.free_threaded is True and server.runtime.gil_enabled is False
        assert server.runtime.gil_enabled_by == ()


def test_the_trap_routes_without_the_built_module_fail_start_up_with_the_build_command(tmp_path: Path) -> None:
    require_setup()
    log = tmp_path / "server.log"
    with pytest.raises(ServerError) as failed, running_server(settings("uvicorn", {gil_trap.ENV_VAR: ""}), log):
        pytest.fail("the server started without gil_lab_trap")
    assert "python -m loadtests.provision.gil_trap" in str(failed.value) or "python -m loadtests.provision.gil_trap" in log.read_text()
