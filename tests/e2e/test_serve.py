"""`gil-lab serve`: one real server for manual exploration, and nothing left behind when it is stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import urllib.request

import psutil
import pytest

from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup


def serving_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"serving (http://127\.0\.0\.1:\d+)", line)
        if match:
            return match.group(1)
    pytest.fail(f"gil-lab serve never said where it serves; stderr:\n{process.stderr.read() if process.stderr else ''}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_serve_answers_then_stops_its_server(stop: signal.Signals) -> None:
    require_setup()
    lab = subprocess.Popen([str(GIL_LAB), "serve", "--interpreter", "ft", "--port", "0"], cwd=PROJECT_ROOT,
                           env=lab_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = serving_url(lab)
        with urllib.request.urlopen(url + "/lab/runtime", timeout=10) as response:  # noqa: S310 - loopback
            runtime = json.loads(response.read())
        assert runtime["free_threaded"] is True and runtime["gil_enabled"] is False
        server = psutil.Process(runtime["pid"])
        lab.send_signal(stop)  # to gil-lab only: the server sits in its own process group
        lab.wait(timeout=30)
        assert not server.is_running() or server.status() == psutil.STATUS_ZOMBIE
    finally:
        if lab.poll() is None:
            lab.kill()


def test_a_multi_process_server_is_ready_only_when_every_worker_answers(tmp_path) -> None:  # noqa: ANN001
    """Otherwise Locust's keep-alive connections all land on the first worker to boot."""
    from loadtests.measure.servers import ServerSettings, running_server, worker_processes
    from loadtests.provision import envs

    require_setup()
    settings = ServerSettings(python=envs.app_python("app-gil"), workers=2)
    with running_server(settings, tmp_path / "server.log") as server:
        assert len(server.ready_pids) == 2
        children = {p.pid for p in psutil.Process(server.pid).children(recursive=True)}
        assert server.ready_pids <= children
    assert worker_processes(ServerSettings(server="granian", workers=2), free_threaded=True) == 1
    assert worker_processes(ServerSettings(server="granian", workers=2), free_threaded=False) == 2
