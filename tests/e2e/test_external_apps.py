"""`--app-url`: load apps the lab did not start (how the compose `compare` service runs)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.measure.run_record import external_mismatch
from loadtests.measure.servers import ServerSettings, running_server
from loadtests.plan.presets import load_preset
from loadtests.provision import envs
from loadtests.results.records import RuntimeSnapshot, Software
from tests.conftest import load_run_json, require_setup, run_dir_from, run_lab

APP_PASSWORD = "app-pass-5e6f7a"
SECRET_ENV = {"LAB_LOCUST_TOKEN": "token-3c4d5e6f", "http_proxy": "http://127.0.0.1:9",
              "HTTPS_PROXY": "http://lab:proxy-pass-1a2b@127.0.0.1:9"}


def _with_password(url: str) -> str:
    return url.replace("http://", f"http://team:{APP_PASSWORD}@")


def test_smoke_against_apps_started_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a password in each URL, a token and a proxy with a password exported: it runs (the lab's calls and the
    load go direct, the password authenticates), and no secret reaches a server or a file under the results."""
    require_setup()
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)  # the environment the servers are started from
    secrets = [APP_PASSWORD, SECRET_ENV["LAB_LOCUST_TOKEN"], "proxy-pass-1a2b"]
    gil = ServerSettings(python=envs.app_python("app-gil"))
    ft = ServerSettings(python=envs.app_python("app-ft"))
    with running_server(gil, tmp_path / "gil.log") as app_gil, running_server(ft, tmp_path / "ft.log") as app_ft:
        for server in (app_gil, app_ft):
            environ = Path(f"/proc/{server.pid}/environ").read_bytes()
            assert not [s for s in secrets if s.encode() in environ]
        result = run_lab("run", "--preset", "smoke", "--repeats", "1", "--out", str(tmp_path / "runs"),
                         "--app-url", f"3.14={_with_password(app_gil.base_url)}",
                         "--app-url", f"3.14t={_with_password(app_ft.base_url)}", env=SECRET_ENV)
    run = load_run_json(run_dir_from(result))
    assert run["settings"]["app_urls"] == {"3.14": app_gil.base_url, "3.14t": app_ft.base_url}  # no password
    assert run["interpreters"]["3.14t"]["url"] == app_ft.base_url
    assert run["interpreters"]["3.14t"]["source"] == "external" and run["microbench"] is None
    for path in (tmp_path / "runs").rglob("*"):
        assert not path.is_file() or not [s for s in secrets if s.encode() in path.read_bytes()], path
    for cell in run["cells"]:
        assert cell["valid"], cell["invalid_reason"]
        assert cell["rps"] > 0
        assert cell["server_cpu_cores"] is None and cell["server_sampling"] == "unavailable: external app"
        assert cell["gil_enabled"] is (cell["interpreter"] == "3.14")


def test_an_external_app_cannot_stand_for_a_cell_with_other_settings() -> None:
    config = load_preset("smoke").configs[0]
    runtime = RuntimeSnapshot(python_version="3.14.7", implementation="cpython", executable="python",
                              free_threaded=False, gil_enabled=True, gil_flag=None, gil_enabled_by=(),
                              gilwatch_site_hook=True, thread_limit=config.threads, pid=1, threads=1,
                              server=Software("uvicorn", "0.54"), packages={})
    assert external_mismatch(config, runtime) is None
    assert "granian" in str(external_mismatch(config, replace(runtime, server=Software("granian", "2"))))
    assert "thread limit" in str(external_mismatch(config, replace(runtime, thread_limit=40)))
    baseline = replace(config, parallelism="processes", workers=2)
    assert "N-process baseline" in str(external_mismatch(baseline, runtime))


def test_app_urls_must_cover_every_interpreter(tmp_path: Path) -> None:
    result = run_lab("run", "--preset", "smoke", "--app-url", "3.14t=http://127.0.0.1:9", "--out", str(tmp_path),
                     check=False)
    assert result.returncode == 1
    assert "give a URL for every interpreter" in result.stderr
