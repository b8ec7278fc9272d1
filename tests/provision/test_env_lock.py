"""Environment locks across processes: a rebuild waits for a lab that runs from the environment."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision import env_lock


@pytest.mark.slow
def test_a_rebuild_waits_for_the_lab_that_uses_the_environment(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "envs" / "app-gil"
    code = ("import sys; from pathlib import Path; from loadtests.provision import env_lock\n"
            "with env_lock.using([Path(sys.argv[1])]):\n    print('using', flush=True); sys.stdin.read()\n")
    running_lab = subprocess.Popen([sys.executable, "-c", code, str(env)], cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
    assert running_lab.stdout is not None and running_lab.stdout.readline().strip() == "using"
    released = threading.Event()
    entered_after_release: list[bool] = []

    def rebuild() -> None:
        with env_lock.building(env):
            entered_after_release.append(released.is_set())

    builder = threading.Thread(target=rebuild)
    builder.start()
    time.sleep(0.5)  # room for a lock that does not hold to let the rebuild in
    released.set()
    running_lab.communicate("", timeout=30)  # the run ends: its lock goes with it
    builder.join(30)
    assert entered_after_release == [True]
    assert f"another lab is building or using {env}; waiting for it" in capsys.readouterr().err


def test_labs_that_only_use_an_environment_do_not_wait_for_each_other(tmp_path: Path) -> None:
    env = tmp_path / "app-ft"
    with env_lock.using([env, env]), env_lock.using([env]):
        assert env_lock.lock_file(env) == tmp_path / ".app-ft.lock"
