"""uv for the lab: found, or installed from the package index into the lab cache with bounded timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.core.errors import UvError
from loadtests.provision import envs, uv_tool

from .conftest import LocalServer, Route


@pytest.fixture
def private_index(isolated_lab: Path, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """pip sees only the local server as its index: no pip.conf, no find-links, no extra index."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for variable in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", http_server.url + "/simple/")
    return http_server


def test_the_pinned_requirement_comes_from_the_control_lock() -> None:
    requirement = uv_tool.pinned_requirement()
    version = requirement.split()[0]
    assert version.startswith("uv==") and "--hash=sha256:" in requirement and "\\" not in requirement
    assert version in uv_tool.CONTROL_LOCK.read_text()


def test_without_a_lock_entry_plain_uv_is_asked_for(tmp_path: Path) -> None:
    lock = tmp_path / "control.txt"
    lock.write_text("click==8.2.1 \\\n    --hash=sha256:ab\n")
    assert uv_tool.pinned_requirement(lock) == "uv"


def test_uv_gets_short_timeouts_unless_the_user_chose_and_keeps_index_and_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UV_HTTP_TIMEOUT", raising=False)
    monkeypatch.delenv("UV_HTTP_RETRIES", raising=False)
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://index.example/simple/")
    monkeypatch.setenv("UV_INDEX_URL", "http://old-index.example/simple/")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv("PYTHON_GIL", "0")
    env = uv_tool.uv_env()
    assert (env["UV_HTTP_TIMEOUT"], env["UV_HTTP_RETRIES"]) == ("10", "1")
    assert env["UV_DEFAULT_INDEX"] == "http://index.example/simple/"
    assert env["UV_INDEX_URL"] == "http://old-index.example/simple/"
    assert (env["HTTPS_PROXY"], env["NO_PROXY"]) == ("http://proxy.example:3128", "localhost,127.0.0.1,::1")
    assert "PYTHON_GIL" not in env
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "99")
    assert uv_tool.uv_env()["UV_HTTP_TIMEOUT"] == "99"


def test_failure_reasons_keep_the_error_and_its_network_cause() -> None:
    uv_output = (
        "error: Failed to install cpython-3.14.10-linux-x86_64-gnu\n"
        "  cause: Request failed after 1 retry in 2.1s\n"
        "  cause: failed to lookup address information: Name or service not known\n"
    )
    assert uv_tool.failure_reason(uv_output) == (
        "error: Failed to install cpython-3.14.10-linux-x86_64-gnu "
        "(cause: failed to lookup address information: Name or service not known)")
    pip_output = (
        "WARNING: Retrying (Retry(total=0)) after connection broken by 'NameResolutionError(\"Failed to resolve "
        "'pypi.org'\")': /simple/uv/\n"
        "ERROR: Could not find a version that satisfies the requirement uv==0.13.9 (from versions: none)\n"
        "ERROR: No matching distribution found for uv==0.13.9\n"
    )
    reason = uv_tool.failure_reason(pip_output)
    assert reason.startswith("ERROR: No matching distribution found for uv==0.13.9 (network: ")
    assert "Failed to resolve 'pypi.org'" in reason


def test_installers_find_the_labs_own_uv(isolated_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CONTROL_VENV", str(isolated_lab / "venv"))
    monkeypatch.setenv("LAB_INSTALLER", "auto")
    assert uv_tool.find_uv() is None and envs.installer() is None
    uv_tool.tool_uv().parent.mkdir(parents=True)
    uv_tool.tool_uv().write_text("")
    assert uv_tool.find_uv() is None  # not finished: no marker
    (uv_tool.tool_dir() / uv_tool.READY_MARKER).write_text("{}")
    assert uv_tool.find_uv() == uv_tool.tool_uv()
    assert envs.installer() == [str(uv_tool.tool_uv())]


@pytest.mark.slow
def test_installing_uv_asks_the_configured_index(private_index: LocalServer) -> None:
    with pytest.raises(UvError, match="pip install uv failed") as info:
        uv_tool.ensure_uv()
    assert "/simple/uv/" in private_index.requests
    assert "uv==" in str(info.value)
    assert not uv_tool.tool_dir().exists()  # a failed install leaves nothing to be mistaken for uv


@pytest.mark.slow
def test_a_silent_index_times_out(private_index: LocalServer) -> None:
    private_index.routes["/simple/uv/"] = [Route(silent=True)]
    with pytest.raises(UvError, match="timed out"):
        uv_tool.ensure_uv(pip_timeout=1)
    assert private_index.requests.count("/simple/uv/") == 2  # --retries 1: one retry, then it gives up
    assert not uv_tool.tool_dir().exists()


@pytest.mark.slow
def test_uv_is_installed_from_the_index_once_and_reused(isolated_lab: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    uv = uv_tool.ensure_uv()
    assert uv == uv_tool.tool_uv()
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    assert uv_tool.pinned_requirement().startswith(f"uv=={version} ")
    assert "==> install uv from PyPI" in capsys.readouterr().err
    assert uv_tool.ensure_uv() == uv
    assert "install uv" not in capsys.readouterr().err
    # uv python find never offers a virtual environment of the working directory (the lab's own .venv)
    project = isolated_lab / "project"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    monkeypatch.chdir(project)
    found = uv_tool.python_find(uv, ".".join(map(str, sys.version_info[:2])))
    assert found is None or not (found.parent.parent / "pyvenv.cfg").exists(), found
