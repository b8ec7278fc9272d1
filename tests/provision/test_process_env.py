"""What the children of the lab get from its environment: an allow-list, NO_PROXY, never a secret."""

from __future__ import annotations

import pytest

from loadtests.core.errors import ConfigError
from loadtests.provision import process_env
from loadtests.provision.process_env import add_lab_address, child_env, installer_env, pass_patterns

SECRETS = {"LAB_LOCUST_TOKEN": "tok-secret", "LAB_APP_URLS": "3.14=http://u:app-secret@h:1",
           "HTTPS_PROXY": "http://u:proxy-secret@proxy:3128", "http_proxy": "http://u:proxy-secret@proxy:3128",
           "AWS_SECRET_ACCESS_KEY": "aws-secret", "UV_INDEX_URL": "https://u:index-secret@index/simple",
           "PYTHON_GIL": "0", "PYTHONPATH": "/elsewhere"}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**SECRETS, "PATH": "/usr/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8", "NO_PROXY": "corp",
                        "TEAM_DB_URL": "db://x", "TEAM_FLAG": "1", "PYTHONUTF8": "1",
                        "LAB_TRAP_EXT_DIR": "/cache/trap"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(process_env.PASS_ENV, raising=False)
    monkeypatch.setattr(process_env, "_lab_addresses", [])


def test_a_server_or_locust_gets_the_basics_and_no_secret(environ: None) -> None:
    env = child_env({"LAB_THREADS": "4"})
    assert {k: env[k] for k in ("PATH", "HOME", "LC_ALL", "PYTHONUTF8", "LAB_THREADS", "LAB_TRAP_EXT_DIR")} == {
        "PATH": "/usr/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1", "LAB_THREADS": "4",
        "LAB_TRAP_EXT_DIR": "/cache/trap"}  # the lab's own settings, its secrets excepted
    assert not set(SECRETS) & set(env) and "TEAM_DB_URL" not in env
    assert not any("secret" in value for value in env.values())


def test_the_team_names_what_its_app_needs(environ: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process_env.PASS_ENV, "TEAM_*,HTTPS_PROXY")
    env = child_env()
    assert env["TEAM_DB_URL"] == "db://x" and env["TEAM_FLAG"] == "1"
    assert env["HTTPS_PROXY"] == SECRETS["HTTPS_PROXY"]  # asked for by name
    assert "LAB_LOCUST_TOKEN" not in env
    for pattern in ("LAB_LOCUST_TOKEN", "LAB_*", "PYTHON_GIL"):
        with pytest.raises(ConfigError, match="never hands"):
            pass_patterns({process_env.PASS_ENV: pattern})


def test_installers_get_proxies_and_indexes_but_no_lab_secret(environ: None) -> None:
    env = installer_env()
    assert env["HTTPS_PROXY"] == SECRETS["HTTPS_PROXY"] and env["UV_INDEX_URL"] == SECRETS["UV_INDEX_URL"]
    assert "LAB_LOCUST_TOKEN" not in env and "LAB_APP_URLS" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "PYTHON_GIL" not in env and "PYTHONPATH" not in env


def test_every_child_bypasses_proxies_for_loopback_and_the_labs_addresses(environ: None) -> None:
    add_lab_address("10.0.0.1")
    add_lab_address("0.0.0.0")  # a wildcard is no address
    for env in (child_env(), installer_env()):
        assert env["NO_PROXY"] == env["no_proxy"] == "corp,127.0.0.1,localhost,::1,10.0.0.1"
