"""Two labs on one machine, started at the same moment into one results directory, with a proxy and secrets exported.

Each must finish on its own servers (ports chosen so they do not collide, readiness that
accepts only its own server), both must be in the history (the index is shared), a proxy
that captures nothing (``http_proxy=http://127.0.0.1:9``: nothing listens there) must not
change a figure, and neither the token nor the proxy's password may reach a server's
environment or a file under results/.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from loadtests.measure.runner import CELL_DIR_ENV
from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, require_setup, run_lab

pytestmark = pytest.mark.slow

TOKEN = "token-of-two-labs-0f1e2d3c"
PROXY_PASSWORD = "proxy-pass-9a8b7c"
SECRETS = (TOKEN, PROXY_PASSWORD)
SECRET_ENV = {"LAB_LOCUST_TOKEN": TOKEN, "http_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": f"http://lab:{PROXY_PASSWORD}@127.0.0.1:9",
              "HTTPS_PROXY": f"http://lab:{PROXY_PASSWORD}@127.0.0.1:9"}


def secrets_in_environments(out: Path, seen: dict[int, str]) -> list[str]:
    """Every process a run under ``out`` started, by its LAB_CELL_DIR: note its run, and any secret in its environ."""
    found = []
    for process in psutil.process_iter():
        try:
            environ = process.environ()
            cell_dir = environ.get(CELL_DIR_ENV, "")
            if not cell_dir.startswith(str(out)):
                continue
            seen.setdefault(process.pid, Path(cell_dir).relative_to(out).parts[0])
            raw = Path(f"/proc/{process.pid}/environ").read_bytes()
        except (psutil.Error, OSError):
            continue
        found += [f"{process.pid} {' '.join(process.cmdline())[:120]}: {secret}" for secret in SECRETS
                  if secret.encode() in raw]
    return found


def test_two_compares_at_the_same_moment_finish_on_their_own_servers_behind_a_dead_proxy(tmp_path: Path) -> None:
    require_setup()
    out = tmp_path / "results"
    env = lab_env(**SECRET_ENV)
    commands = [[str(GIL_LAB), "compare", "--preset", "smoke", "--out", str(out)],
                [str(GIL_LAB), "compare", "--preset", "smoke", "--out", str(out), "--locust-workers", "1"]]
    labs = [subprocess.Popen(c, cwd=PROJECT_ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=lambda: os.umask(0o022)) for c in commands]  # noqa: PLW1509
    seen: dict[int, str] = {}  # pid -> the run directory it belongs to
    leaks: list[str] = []
    try:
        while any(lab.poll() is None for lab in labs):
            leaks += secrets_in_environments(out, seen)
            time.sleep(0.5)
        outputs = [lab.communicate(timeout=60) for lab in labs]
    finally:
        for lab in labs:
            if lab.poll() is None:
                lab.kill()
                lab.wait()
    for lab, (stdout, stderr) in zip(labs, outputs, strict=True):
        assert lab.returncode == 0, stdout[-3000:] + stderr[-5000:]
    assert not leaks, leaks
    runs = sorted(p.parent for p in out.glob("*/run.json"))
    assert len(runs) == 2
    server_pids: dict[str, set[int]] = {}
    for run_dir in runs:
        run = json.loads((run_dir / "run.json").read_text())
        for cell in run["cells"]:
            # No request went to the dead proxy: it would have failed. (Two labs on two busy cores may still
            # starve a 2-second window of completions; the lab marks such a window invalid, as it should.)
            assert cell["failures"] == 0, cell["invalid_reason"]
            assert not cell["valid"] or cell["requests"] > 0
            assert cell["runtime_before"]["pid"] == cell["server_pid"]  # it measured the server it started
            assert seen.get(cell["server_pid"]) == run_dir.name  # ... which was its own, not the other lab's
            server_pids.setdefault(run_dir.name, set()).add(cell["server_pid"])
        # figures for both sides, as without the proxy
        assert {c["interpreter"] for c in run["cells"] if c["valid"]} == {"3.14", "3.14t"}, [
            c["invalid_reason"] for c in run["cells"]]
        for name in ("run.json", "summary.json", "report.md", "report.html"):
            assert stat.S_IMODE((run_dir / name).stat().st_mode) & 0o044 == 0o044, name  # readable by others
    first, second = server_pids.values()
    assert not first & second
    listed = json.loads(run_lab("history", "--results", str(out), "--json").stdout)
    assert {entry["run_id"] for entry in listed} == {run_dir.name for run_dir in runs}
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [s for s in SECRETS if s.encode() in data], path
