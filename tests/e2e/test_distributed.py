"""Distributed load for real: the lab as Locust master, `gil-lab worker`s on other "machines".

Every machine is a network namespace of its own (tests/e2e/netns.py): the lab and its
servers on 10.77.0.1, workers on 10.77.0.2 and .3 with their own host names. The
workers run from another installation of the lab (a wheel in a venv of its own,
without scenarios/: tests/e2e/remote_lab.py), each from its own empty directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup, run_dir_from, wait_for
from tests.e2e.netns import Machine, Network, network
from tests.e2e.processes import describe, started_by
from tests.e2e.remote_lab import install_lab

pytestmark = pytest.mark.slow

TOKEN = "distributed-test-token"
MASTER = "10.77.0.1"
PORT = 5557


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    with network(workers=2) as made:
        yield made


@pytest.fixture(scope="module")
def remote_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`gil-lab` of another installation of the same lab version."""
    return install_lab(tmp_path_factory.mktemp("remote-lab"))


@contextmanager
def worker(machine: Machine, gil_lab: Path, home: Path, *extra: str,
           token: str = TOKEN) -> Iterator[subprocess.Popen[str]]:
    """`gil-lab worker` on ``machine``, from its own directory; stopped (its group) at the end."""
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "worker.log").open("w")
    env = {**lab_env(LAB_LOCUST_TOKEN=token), "HOME": str(home)}
    env.pop("PYTHONPATH", None)
    process = subprocess.Popen(machine.command([str(gil_lab), "worker", "--master", f"{MASTER}:{PORT}",
                                                "--master-timeout", "20", *extra]),
                               cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def lab_in(net: Network, *args: str) -> list[str]:
    require_setup()
    return net.lab.command([str(GIL_LAB), *args])


def distributed_run(net: Network, out: Path, *extra: str, expect: int = 2) -> list[str]:
    return lab_in(net, "run", "--preset", "smoke", "--repeats", "1", "--duration", "4", "--warmup", "2",
                  "--locust-master-bind", MASTER, "--locust-master-port", str(PORT), "--expose-master",
                  "--expect-workers", str(expect),
                  "--workers-timeout", "45", "--no-threads-bench", "--out", str(out), *extra)


def run_lab_in(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_ROOT, env=lab_env(LAB_LOCUST_TOKEN=TOKEN), capture_output=True,
                          text=True, timeout=timeout)


def test_a_comparison_with_two_remote_workers_has_both_workers_samples_in_every_window(
        net: Network, remote_lab: Path, tmp_path: Path) -> None:
    """Two sessions (json, then the drop-in `orders` through the generic routes scenario): the same two
    workers take part in both without being restarted by hand."""
    with worker(net.workers[0], remote_lab, tmp_path / "w1") as w1, \
            worker(net.workers[1], remote_lab, tmp_path / "w2"):
        result = run_lab_in(distributed_run(net, tmp_path / "runs", "--scenario", "json,orders"))
        assert result.returncode == 0, result.stdout + result.stderr
        assert w1.poll() is None  # still there for the next run
    run = json.loads((run_dir_from(result) / "run.json").read_text())
    assert run["settings"]["expect_workers"] == 2 and run["settings"]["locust_master"] == f"{MASTER}:{PORT}"
    cells = [c for c in run["cells"] if not c["superseded"]]  # a noisy window measured again stands aside
    assert {c["scenario"] for c in cells} == {"json", "orders"} and len(cells) == 4  # a block of A B each
    for cell in cells:
        assert cell["valid"], cell["invalid_reason"]
        hosts = {w["host"]: w for w in cell["load_workers"]}
        assert set(hosts) == {"worker-1", "worker-2"}, cell["load_workers"]
        for name, info in hosts.items():
            assert info["remote"] and not info["left"]
            assert info["requests"] > 0, (name, cell["id"])
            assert info["address"] == {"worker-1": "10.77.0.2", "worker-2": "10.77.0.3"}[name]
            assert info["clock_offset_ms"] is not None and abs(info["clock_offset_ms"]) < 50  # one kernel clock
            assert info["cpu_cores"] is not None and 0 < info["cpu_cores"] < 1.5
            assert info["lab_version"] and info["locust_version"]
        assert sum(w["requests"] for w in cell["load_workers"]) == cell["requests"]
    orders = [c for c in cells if c["scenario"] == "orders"]
    assert all(c["rps"] > 0 for c in orders)
    assert "joined: clock offset" in result.stderr
    assert not started_by(run_dir_from(result)), describe(started_by(run_dir_from(result)))
    for log in (tmp_path / "w1" / "worker.log", tmp_path / "w2" / "worker.log"):
        assert log.read_text().count("ended (Locust exit status") == 2, log.read_text()[-2000:]


def locust_child(gil_lab_worker: subprocess.Popen[str]) -> psutil.Process | None:
    """The Locust worker a `gil-lab worker` runs now (not its supervisor)."""
    for child in psutil.Process(gil_lab_worker.pid).children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if any(part.endswith("/locust") for part in cmdline) and "--worker" in cmdline:
            return child
    return None


def test_a_worker_killed_mid_window_invalidates_that_window_only(net: Network, remote_lab: Path,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with worker(net.workers[0], remote_lab, tmp_path / "w1"), \
            worker(net.workers[1], remote_lab, tmp_path / "w2") as w2:
        lab = subprocess.Popen(distributed_run(net, out, "--repeats", "2", "--duration", "6"), cwd=PROJECT_ROOT,
                               env=lab_env(LAB_LOCUST_TOKEN=TOKEN), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            def windows() -> int:
                runs = list(out.glob("*/run.json"))
                return len(json.loads(runs[0].read_text())["cells"]) if runs else 0

            wait_for(lambda: windows() >= 1, "the first window", timeout=240)
            time.sleep(3.5)  # inside the second window: 1 s of transition, then 6 s measured
            child = locust_child(w2)
            assert child is not None
            child.kill()
            stdout, stderr = lab.communicate(timeout=400)
        finally:
            if lab.poll() is None:
                lab.kill()
                lab.wait()
        assert lab.returncode == 0, stdout + stderr
    run = json.loads((Path(stdout.strip().splitlines()[-1]) / "run.json").read_text())
    cells = [c for c in run["cells"] if not c["superseded"]]
    invalid = [c for c in cells if not c["valid"]]
    assert len(cells) == 4 and len(invalid) == 1, [(c["id"], c["invalid_reason"]) for c in cells]
    assert cells.index(invalid[0]) == 1
    assert "left during the window" in invalid[0]["invalid_reason"] and "worker-2" in invalid[0]["invalid_reason"]
    # the restarted worker-2 carried load again in the next windows
    later = cells[2:]
    assert all({w["host"] for w in c["load_workers"]} == {"worker-1", "worker-2"} for c in later)
    assert len({w["id"] for c in later for w in c["load_workers"] if w["host"] == "worker-2"}) == 1
    assert "starting a Locust worker" in (tmp_path / "w2" / "worker.log").read_text()


def test_a_worker_of_another_lab_version_is_refused_with_both_named(net: Network, tmp_path: Path) -> None:
    other = install_lab(tmp_path / "other-lab", lab_version="0.1.0+other")
    with worker(net.workers[0], other, tmp_path / "w1") as w1:
        result = run_lab_in(distributed_run(net, tmp_path / "runs", "--workers-timeout", "15", expect=1))
        code = w1.wait(60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 of 1 Locust workers joined" in result.stderr
    assert "refused: worker-1 (10.77.0.2): lab version: master 0.1.0, worker 0.1.0+other" in result.stderr
    log = (tmp_path / "w1" / "worker.log").read_text()
    assert code == 1 and "refused this worker: lab version: master 0.1.0, worker 0.1.0+other" in log, log[-3000:]


def test_a_worker_with_the_wrong_token_is_refused(net: Network, remote_lab: Path, tmp_path: Path) -> None:
    """It cannot verify the master (which it then never joins, importing nothing), and both sides say so."""
    with worker(net.workers[0], remote_lab, tmp_path / "w1", token="not-the-runs-token") as w1:
        result = run_lab_in(distributed_run(net, tmp_path / "runs", "--workers-timeout", "15", expect=1))
        code = w1.wait(60)
    assert result.returncode == 1 and "refused: worker-1: wrong token" in result.stderr, result.stderr
    log = (tmp_path / "w1" / "worker.log").read_text()
    assert code == 1 and "this side's LAB_LOCUST_TOKEN is not the run's" in log, log[-3000:]
    assert "starting a Locust worker" not in log


def test_a_teams_locustfile_is_shipped_to_a_remote_worker(net: Network, remote_lab: Path, tmp_path: Path) -> None:
    """examples/bookshop/locustfile.py runs on a worker that has no copy of it, with the lab's recorder."""
    out = tmp_path / "drained.json"
    with worker(net.workers[0], remote_lab, tmp_path / "w1"):
        args = net.lab.command([str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "tests.e2e.session_driver",
                                str(PROJECT_ROOT / "examples" / "bookshop" / "locustfile.py"), MASTER, str(PORT),
                                str(tmp_path / "session"), str(out)])
        result = run_lab_in(args, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    drained = json.loads(out.read_text())
    (remote,) = drained["workers"]
    assert remote["host"] == "worker-1"
    names = {name for name, origin in drained["samples"] if origin == remote["id"]}
    assert {"GET /search", "GET /books/[id]/similar"} <= names, names
    shipped = (tmp_path / "w1" / "worker.log").read_text()
    assert "locustfile.py" not in os.listdir(tmp_path / "w1")  # nothing of the team's was ever on that machine
    assert "admitted by the master" in shipped
