"""A team's own service end to end: real uv environments, real servers on both interpreters, real Locust.

Each test builds its service in a temporary directory (a Starlette app in a package named
``app``, its requirements, its Locust file) and runs the real `gil-lab`, with an
environments directory of its own.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
from pathlib import Path

import pytest

from loadtests.results.records.safety import ResponsesCheck
from loadtests.results.store import load_run
from tests.conftest import GIL_LAB, PROJECT_ROOT, lab_env, run_dir_from, wait_for
from tests.e2e.own_service import CHECKED, QUICK, gil_lab, local_wheel, private_envs, team_service, trap_sdist, write
from tests.e2e.processes import describe, started_by
from tests.provision.packages import sdist_refusing_free_threading

pytestmark = pytest.mark.slow
__all__ = ["private_envs"]  # the fixture, imported for pytest

FASTAPI_ASYNC = """
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Basket(BaseModel):
    items: list[int]


@app.post("/price")
async def price(basket: Basket) -> dict:
    return {{"total": sum((i * 31 + len(basket.items)) % 97 for i in range(150_000))}}
"""

ASYNC_LOCUSTFILE = """
from locust import HttpUser, constant, task


class Pricer(HttpUser):
    wait_time = constant(0)

    @task
    def price(self):
        self.client.post("/price", json={"items": [1, 2, 3]})
"""


def run_service(envs: Path, service: Path, out: Path, *extra: str) -> Path:
    result = gil_lab(envs, "run", *QUICK, "--app", "app.main:app", "--app-dir", str(service), "--locustfile",
                     str(service / "locustfile.py"), "--out", str(out), *extra)
    assert result.returncode == 0, result.stderr[-4000:]
    return run_dir_from(result)


def test_a_foreign_starlette_app_with_its_requirements_and_locustfile_on_both_interpreters(
        private_envs: Path, tmp_path: Path) -> None:
    service = team_service(tmp_path, "gil_lab_team_dep", local_wheel(tmp_path))
    run_dir = run_service(private_envs, service, tmp_path / "results", "--requirements",
                          str(service / "requirements.txt"))
    run = load_run(run_dir)
    settings = run.settings.service
    assert settings is not None and settings.app == "app.main:app" and settings.app_dir == str(service)
    assert run.settings.team_scenarios == ("locustfile",) and {c.config.scenario for c in run.cells} == {"locustfile"}
    # both environments hold the team's dependency; the lab's own were not touched
    for label in ("3.14", "3.14t"):
        env = settings.environments[label]
        assert env.own and env.available and Path(env.path).parent == private_envs
        assert run.interpreters[label].packages["gil-lab-team-dep"] == "1.0"
    # the file's classes and think times are kept and recorded
    assert [(u.name, u.weight, u.wait_time) for u in settings.user_classes] == [
        ("Counter", 2, "between(0.01, 0.02)"), ("Greeter", 1, "constant(0.01)")]
    # every task ran once per interpreter before any window, and each request is tied to its route
    assert {p.interpreter for p in settings.preflight} == {"3.14", "3.14t"}
    for preflight in settings.preflight:
        assert {(t.user_class, t.task, r.status, r.route) for t in preflight.tasks for r in t.requests} == {
            ("Counter", "total", 200, "/total"), ("Greeter", "hello", 200, "/hello")}
        total = next(r for t in preflight.tasks for r in t.requests if r.route == "/total")
        assert total.query == "n=20000" and total.body_base64 is None  # what the probe sends in process
    # the team's `app` package was served, not the lab's: /hello exists only there
    for cell in run.cells:
        assert cell.valid, cell.invalid_reason
        assert cell.runtime_before is not None and cell.runtime_before.app is not None
        assert cell.runtime_before.app.target == "app.main:app" and cell.runtime_before.app.dir == str(service)
    assert {c.config.interpreter for c in run.cells} == {"3.14", "3.14t"}
    # config_id: the app, this interpreter's lock hash and the Locust file's hash
    locust = hashlib.sha256((service / "locustfile.py").read_bytes()).hexdigest()
    for cell in run.cells:
        lock = Path(settings.environments[cell.config.interpreter].lock_file or "")
        assert cell.config_id.endswith(f"/app-app.main:app/lock-{hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}"
                                       f"/locust-{locust[:12]}")
    # the audit imported the team's app in its 3.14t environment, with its directory
    assert run.audit is not None and getattr(run.audit, "verdict", None) == "clean"
    assert not started_by(run_dir), describe(started_by(run_dir))
    # the same app through `audit` and `serve`, from the environments the run built
    audit = gil_lab(private_envs, "audit", "--app", "app.main:app", "--app-dir", str(service), "--requirements",
                    str(service / "requirements.txt"), "--no-distributions", "--json")
    report = json.loads(audit.stdout)
    assert audit.returncode == 0 and report["verdict"] == "clean", audit.stderr[-2000:]
    assert report["python"] == settings.environments["3.14t"].python
    served = subprocess.Popen([str(GIL_LAB), "serve", "--port", "0", "--app", "app.main:app", "--app-dir",
                               str(service), "--requirements", str(service / "requirements.txt")],
                              cwd=PROJECT_ROOT, env=lab_env(LAB_ENVS_DIR=str(private_envs)), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        first = wait_for(lambda: served.stdout and served.stdout.readline(), "gil-lab serve to answer", 120)
        assert "free_threaded=True gil_enabled=False" in str(first)
    finally:
        served.send_signal(signal.SIGINT)
        served.wait(30)


def test_a_requirement_that_cannot_build_on_3_14t_leaves_the_3_14_arms_and_skips_the_others(
        private_envs: Path, tmp_path: Path) -> None:
    refusing = sdist_refusing_free_threading(tmp_path)
    service = team_service(tmp_path, "gil_lab_refuses_ft", f"gil-lab-refuses-ft @ file://{refusing}\n")
    result = gil_lab(private_envs, "compare", *CHECKED, "--app", "app.main:app", "--app-dir", str(service),
                     "--requirements", str(service / "requirements.txt"), "--locustfile",
                     str(service / "locustfile.py"), "--safety-budget", "30", "--out", str(tmp_path / "results"))
    assert result.returncode == 0, result.stderr[-4000:]
    (run_dir,) = (d for d in (tmp_path / "results").iterdir() if d.is_dir())
    run = load_run(run_dir)
    env = run.settings.service.environments["3.14t"] if run.settings.service else None
    assert env is not None and not env.available and env.unavailable_package == "gil-lab-refuses-ft"
    ft = [c for c in run.cells if c.config.interpreter == "3.14t"]
    assert len(ft) == 1 and ft[0].outcome == "skipped" and ft[0].block is None
    assert "gil-lab-refuses-ft cannot be installed on 3.14t" in str(ft[0].invalid_reason)
    assert "cannot be built for free-threaded Python" in str(ft[0].invalid_reason)
    gil = [c for c in run.cells if c.config.interpreter == "3.14" and not c.superseded]
    assert len(gil) == 2 and all(c.valid for c in gil)  # two blocks of the one arm that could run, then it stopped
    assert "no 3.14t measurement: gil-lab-refuses-ft cannot be installed on 3.14t" in result.stdout
    assert "no 3.14t measurement" in (run_dir / "report.md").read_text()
    # compare ran the response check after the windows, on 3.14 alone, within its budget
    responses = run.safety.responses if run.safety else None
    assert isinstance(responses, ResponsesCheck) and responses.budget_s == 30
    assert {a.interpreter for a in responses.arms} == {"3.14"} and "ran on 3.14 alone" in responses.notes[0]
    assert {e.endpoint: e.classification for e in responses.endpoints} == {"GET /total": "consistent",
                                                                           "GET /hello": "consistent"}
    assert "Safe to move? No race found" in result.stdout
    assert "**Safe to move?** No race found" in (run_dir / "report.md").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["safety"]["app"] == "app.main:app" and summary["safety"]["races"] == []


def test_a_gil_enabling_extension_from_the_requirements_is_named_with_its_distribution_and_remedy(
        private_envs: Path, tmp_path: Path) -> None:
    trap = trap_sdist(tmp_path / "dist")
    service = team_service(tmp_path, "gil_lab_trap", f"gil-lab-trap @ file://{trap}\n")
    run_dir = run_service(private_envs, service, tmp_path / "results", "--requirements",
                          str(service / "requirements.txt"), "--python-gil", "0")
    run = load_run(run_dir)
    # the audit imported the team's app on 3.14t first, and named the module and its distribution
    assert getattr(run.audit, "verdict", None) == "gil-enabled" and "gil_lab_trap" in run.audit.gil_enabled_by  # type: ignore[union-attr]
    (culprit,) = [c for c in run.gil_culprits if c.module == "gil_lab_trap"]
    assert (culprit.distribution, culprit.version) == ("gil-lab-trap", "0.1")
    assert any("a 3.14t server's /lab/runtime" in f for f in culprit.found_by)
    assert {r.kind for r in culprit.remedies} >= {"upgrade", "python_gil_0"}
    # default 3.14t windows ran with the GIL on and are invalid; the PYTHON_GIL=0 arm kept it off
    default = [c for c in run.cells if c.config.interpreter == "3.14t" and c.config.python_gil is None]
    forced = [c for c in run.cells if c.config.python_gil == "0"]
    assert default and all(c.gil_enabled and not c.valid and "gil_lab_trap" in c.gil_enabled_by for c in default)
    assert forced and all(c.valid and c.gil_enabled is False for c in forced)
    # the report ties the windows to the module, its distribution and the remedy, and calls PYTHON_GIL=0 a risk
    result = gil_lab(private_envs, "report", str(run_dir))
    assert result.returncode == 0, result.stderr
    report = (run_dir / "report.md").read_text()
    assert "the GIL came back on in 3.14t, turned on by gil_lab_trap (from gil-lab-trap 0.1)" in report
    assert "PYTHON_GIL=0 is a risk, not a result" in report
    verdict = report.split("## 2 ")[0]
    assert "the GIL came back on in 3.14t (enabled by gil_lab_trap)" in verdict  # the headline is not the forced arm


def test_an_async_def_route_is_diagnosed_as_a_serial_section_on_the_event_loop(private_envs: Path,
                                                                               tmp_path: Path) -> None:
    """The lab's own environments (no --requirements); the load reaches only an async def CPU route."""
    service = team_service(tmp_path, "json", "", app=FASTAPI_ASYNC)
    write(service / "locustfile.py", ASYNC_LOCUSTFILE)
    run_dir = run_service(private_envs, service, tmp_path / "results", "--users", "4")
    run = load_run(run_dir)
    assert run.settings.service is not None and not run.settings.service.environments["3.14t"].own
    for cell in run.cells:  # measured: the loop's thread did the work, the worker threads did not
        assert cell.valid, cell.invalid_reason
        by_name = {t.name: t.cores for t in cell.server_thread_cores}
        assert by_name["python"] > 4 * by_name.get("AnyIO worker th", 0.0), cell.server_thread_cores
    result = gil_lab(private_envs, "report", str(run_dir))
    assert result.returncode == 0
    report = (run_dir / "report.md").read_text()
    assert "a serial section on the event loop" in report
    assert "POST /price is `async def` (app.main.price)" in report and "body Basket" in report
    assert "make app.main.price a plain `def`" in report
