"""`gil-lab serve`: one real server for manual exploration, and nothing left behind when it is stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

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


@pytest.mark.parametrize(("stop", "server"), [(signal.SIGINT, "uvicorn"), (signal.SIGTERM, "uvicorn"),
                                               (signal.SIGTERM, "hypercorn")], ids=["ctrl-c", "kill", "hypercorn"])
def test_serve_answers_then_stops_its_server(stop: signal.Signals, server: str) -> None:
    """hypercorn answers from a child of the process the lab started: that child goes too."""
    require_setup()
    lab = subprocess.Popen([str(GIL_LAB), "serve", "--interpreter", "ft", "--port", "0", "--server", server],
                           cwd=PROJECT_ROOT, env=lab_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = serving_url(lab)
        with urllib.request.urlopen(url + "/lab/runtime", timeout=10) as response:  # noqa: S310 - loopback
            runtime = json.loads(response.read())
        assert runtime["free_threaded"] is True and runtime["gil_enabled"] is False
        assert runtime["server"]["name"] == server
        answering = psutil.Process(runtime["pid"])
        lab.send_signal(stop)  # to gil-lab only: the server sits in its own process group
        lab.wait(timeout=30)
        assert not answering.is_running() or answering.status() == psutil.STATUS_ZOMBIE
    finally:
        if lab.poll() is None:
            lab.kill()


def test_a_multi_process_server_is_ready_only_when_every_worker_answers(tmp_path: Path) -> None:
    """Otherwise Locust's keep-alive connections all land on the first worker to boot."""
    from loadtests.measure.servers import ServerSettings, running_server, worker_processes
    from loadtests.provision import envs

    require_setup()
    settings = ServerSettings(python=envs.app_python("app-gil"), workers=2)
    with running_server(settings, tmp_path / "server.log") as server:
        assert len(server.ready_pids) == 2
        children = {p.pid for p in psutil.Process(server.pid).children(recursive=True)}
        assert server.ready_pids <= children
    assert worker_processes(settings, free_threaded=False) == 2


def test_a_server_that_answers_from_a_child_is_ready_and_sampled_as_a_whole(tmp_path: Path) -> None:
    """hypercorn on 3.14t: its one worker is a child; readiness waits for it and the sampler reads its CPU."""
    from loadtests.measure.sampling import sample_tree
    from loadtests.measure.servers import ServerSettings, running_server
    from loadtests.provision import envs

    require_setup()
    settings = ServerSettings(server="hypercorn", python=envs.app_python("app-ft"))
    with running_server(settings, tmp_path / "server.log", server_version="from-the-lab") as server:
        assert server.runtime is not None and server.runtime.gil_enabled is False
        assert server.runtime.server.name == "hypercorn" and server.runtime.server.version == "from-the-lab"
        worker = psutil.Process(server.runtime.pid)
        assert server.ready_pids == {worker.pid} and worker.pid != server.pid
        assert worker.pid in {p.pid for p in psutil.Process(server.pid).children(recursive=True)}
        before = sample_tree([server.pid], detailed=True)
        for _ in range(5):
            with urllib.request.urlopen(server.base_url + "/compute/pure?n=200000", timeout=30) as answer:  # noqa: S310
                assert answer.status == 200
        after = sample_tree([server.pid], detailed=True)
        assert before is not None and after is not None and after.processes >= 2
        worker_work = dict(after.per_process_cpu)[worker.pid] - dict(before.per_process_cpu)[worker.pid]
        tree_work = after.cpu_seconds - before.cpu_seconds
        assert worker_work > 0 and tree_work >= worker_work - 1e-9  # the child's work is the tree's (sums of floats)
