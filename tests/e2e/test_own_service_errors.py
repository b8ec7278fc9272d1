"""Bad input for a team's service: a clear error naming the cause and the fix, before any window is measured.

Each case runs the real `gil-lab run` with the lab's own environments (no --requirements)
and checks the message, the exit status, and that no run directory was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.own_service import LOCUSTFILE, gil_lab, private_envs, team_service, write
from tests.e2e.processes import describe, started_by

__all__ = ["private_envs"]  # the fixture, imported for pytest

SHAPE = LOCUSTFILE + """
from locust import LoadTestShape


class Ramp(LoadTestShape):
    def tick(self):
        return None
"""
NO_USERS = "from locust import HttpUser\n\n\nclass Base(HttpUser):\n    abstract = True\n"
NOT_FOUND = """
from locust import HttpUser, between, task


class Lost(HttpUser):
    wait_time = between(0.01, 0.02)

    @task
    def missing(self):
        self.client.get("/not-this-service")

    @task
    def elsewhere(self):
        self.client.post("/also/not/here", json={})
"""
BROKEN_IMPORT = "import gil_lab_no_such_module\n"
WSGI = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'hi']\n"
RESERVED = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def health(request):
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/lab/health", health), Route("/health", health)])
"""


def refused(envs: Path, out: Path, *args: str) -> str:
    result = gil_lab(envs, "run", "--preset", "smoke", "--out", str(out), *args, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert not out.exists() or not any(out.iterdir())  # nothing measured, no run directory
    return result.stderr


def service_args(service: Path, locustfile: str = "locustfile.py") -> list[str]:
    return ["--app", "app.main:app", "--app-dir", str(service), "--locustfile", str(service / locustfile)]


@pytest.mark.parametrize(("locustfile", "says"), [
    (NO_USERS, "defines no User class Locust would run. Add a class deriving from locust.HttpUser"),
    (SHAPE, "defines a LoadTestShape (Ramp). The lab's windows set the users and the time"),
], ids=["no-user-class", "load-test-shape"])
def test_a_locustfile_the_lab_cannot_drive(private_envs: Path, tmp_path: Path, locustfile: str, says: str) -> None:
    service = team_service(tmp_path, "json", "")
    write(service / "bad.py", locustfile)
    assert says in refused(private_envs, tmp_path / "out", *service_args(service, "bad.py"))


def test_a_missing_requirements_file_and_a_scenario_beside_a_locustfile(private_envs: Path, tmp_path: Path) -> None:
    service = team_service(tmp_path, "json", "")
    stderr = refused(private_envs, tmp_path / "out", *service_args(service), "--requirements",
                     str(tmp_path / "nope.txt"))
    assert f"the requirements file {tmp_path / 'nope.txt'} does not exist. Give a requirements.txt" in stderr
    stderr = refused(private_envs, tmp_path / "out", *service_args(service), "--scenario", "json")
    assert "--locustfile replaces the preset's scenarios" in stderr


@pytest.mark.parametrize(("app", "says"), [
    (BROKEN_IMPORT, ["--app app.main:app does not import on 3.14", "Last lines of the traceback",
                     "ModuleNotFoundError: No module named 'gil_lab_no_such_module'"]),
    (WSGI, ["--app app.main:app is not an ASGI 3 app on 3.14", "a2wsgi.WSGIMiddleware"]),
    (RESERVED, ["declares routes under /lab/", "GET,HEAD /lab/health", "Move them under another prefix"]),
], ids=["does-not-import", "not-asgi", "reserved-path"])
def test_an_app_the_lab_cannot_serve_is_refused_before_any_server(private_envs: Path, tmp_path: Path, app: str,
                                                                  says: list[str]) -> None:
    service = team_service(tmp_path, "json", "", app=app)
    stderr = refused(private_envs, tmp_path / "out", *service_args(service))
    for text in says:
        assert text in stderr, stderr[-3000:]


@pytest.mark.slow
def test_an_app_that_answers_404_to_every_task_is_found_by_the_preflight(private_envs: Path, tmp_path: Path) -> None:
    service = team_service(tmp_path, "json", "")
    write(service / "lost.py", NOT_FOUND)
    stderr = refused(private_envs, tmp_path / "out", *service_args(service, "lost.py"))
    assert "every request of" in stderr and "was answered 404 by app.main:app on 3.14" in stderr
    assert "GET /not-this-service, POST /also/not/here" in stderr and "--app names the wrong app" in stderr
    leftovers = started_by(Path("/tmp") / "gil-lab-preflight-")
    assert not leftovers, describe(leftovers)
