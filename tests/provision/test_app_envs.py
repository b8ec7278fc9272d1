"""Environments for a team's own service: real uv, real PyPI, both real interpreters.

Tests that install packages are marked slow. They use a private ``LAB_ENVS_DIR``, so
the lab's own ``.envs/app-gil`` and ``.envs/app-ft`` are never touched.
"""

from __future__ import annotations

import json
import re
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from loadtests.core.errors import RequirementsConflict, RequirementsError
from loadtests.provision import app_envs
from loadtests.provision.app_envs import TeamRequirements, sync_app_envs, uv_environment, version_differences
from loadtests.provision.interpreters import Interpreter

from .conftest import platform_tag
from .packages import sdist_refusing_free_threading, wheel

slow = pytest.mark.slow


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def uv_that_must_not_run(tmp_path: Path) -> list[str]:
    """An installer command that fails loudly: a warm re-sync must not start any installer at all."""
    script = write(tmp_path / "bin" / "uv-must-not-run", "#!/bin/sh\necho 'uv was called' >&2\nexit 97\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return [str(script)]


def offering(tmp_path: Path, name: str, tags: dict[str, str]) -> Path:
    """A requirements.txt asking for ``name`` from a local directory of wheels, one per ``version: tag``."""
    links = tmp_path / "wheels"
    links.mkdir()
    for version, tag in tags.items():
        wheel(links, name, version, tag)
    return write(tmp_path / "requirements.txt", f"--find-links {links}\n{name}\n")


def run_in(python: Path, code: str) -> str:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout


# --- inputs and errors (no installs) ------------------------------------------------------------


def test_a_missing_requirements_file_is_a_clear_error(tmp_path: Path, interpreters: dict[str, Interpreter]) -> None:
    missing = tmp_path / "requirements.txt"
    with pytest.raises(RequirementsError, match=f"{missing} does not exist. Give a requirements.txt, or a pyproject"):
        sync_app_envs(missing, interpreters)


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[project]\nname = "svc"\n', "has no [project].dependencies list"),
        ('[project]\nname = "svc"\ndynamic = ["dependencies"]\n', "declares them dynamic"),
        ('[tool.poetry.dependencies]\npython = "^3.14"\n', "has no [project].dependencies list"),
        ("[project\n", "is not valid TOML"),
    ],
    ids=["no-dependencies", "dynamic", "poetry-only", "broken"],
)
def test_a_pyproject_without_static_dependencies_is_a_clear_error(tmp_path: Path, toml: str, says: str) -> None:
    with pytest.raises(RequirementsError, match=re.escape(says)):
        TeamRequirements.read(write(tmp_path / "pyproject.toml", toml))


def test_requirements_are_read_with_their_names(tmp_path: Path) -> None:
    text = ("# the service\n--index-url https://example.invalid/simple\nFastAPI >=0.115  # web\n"
            "PyYAML==6.0.3 \\\n    --hash=sha256:abc\nmy_pkg @ file:///tmp/my_pkg.tar.gz\n-e ./local\n")
    team = TeamRequirements.read(write(tmp_path / "requirements.txt", text))
    assert [(r.name, r.text) for r in team.requirements] == [
        (None, "--index-url https://example.invalid/simple"),
        ("fastapi", "FastAPI >=0.115"),
        ("pyyaml", "PyYAML==6.0.3"),
        ("my-pkg", "my_pkg @ file:///tmp/my_pkg.tar.gz"),
        (None, "-e ./local"),
    ]
    project = TeamRequirements.read(write(tmp_path / "pyproject.toml",
                                          '[project]\nname = "svc"\ndependencies = ["six>=1.16", "PyYAML"]\n'))
    assert project.from_pyproject and project.text == "six>=1.16\nPyYAML\n"


def test_pip_index_settings_are_mapped_to_uv_only_where_uv_has_none() -> None:
    env = uv_environment({"PIP_INDEX_URL": "https://mirror/simple", "PIP_EXTRA_INDEX_URL": "https://a/simple\n https://b/simple",
                          "PIP_TRUSTED_HOST": "mirror", "HTTPS_PROXY": "http://proxy:3128"})
    assert env["UV_DEFAULT_INDEX"] == "https://mirror/simple"
    assert env["UV_INDEX"] == "https://a/simple https://b/simple"
    assert "UV_INSECURE_HOST" not in env  # pip's trusted host would turn off uv's certificate checks
    assert env["HTTPS_PROXY"] == "http://proxy:3128"  # uv reads proxies itself
    kept = uv_environment({"PIP_INDEX_URL": "https://mirror/simple", "UV_INDEX_URL": "https://uv-own/simple"})
    assert "UV_DEFAULT_INDEX" not in kept and kept["UV_INDEX_URL"] == "https://uv-own/simple"


def test_differences_come_from_the_two_locks(tmp_path: Path) -> None:
    gil = write(tmp_path / "gil.lock", "numpy==2.3.1 \\\n    --hash=sha256:aa\nsix==1.17.0\norjson==3.11.0\n"
                                       "team @ file:///x/team-1.tar.gz\n")
    ft = write(tmp_path / "ft.lock", "numpy==2.2.0 \\\n    --hash=sha256:bb\nsix==1.17.0\n"
                                     "team @ file:///x/team-1.tar.gz\n")
    assert [d.to_json() for d in version_differences(gil, ft)] == [
        {"package": "numpy", "gil": "2.3.1", "ft": "2.2.0"},
        {"package": "orjson", "gil": "3.11.0", "ft": None},
    ]
    assert version_differences(gil, None) == ()


def test_the_environment_name_is_keyed_by_its_inputs(tmp_path: Path, interpreters: dict[str, Interpreter]) -> None:
    one = TeamRequirements.read(write(tmp_path / "a" / "requirements.txt", "six\n"))
    same = TeamRequirements.read(write(tmp_path / "b" / "requirements.txt", "six\n"))
    other = TeamRequirements.read(write(tmp_path / "c" / "requirements.txt", "six==1.17.0\n"))
    name = app_envs.env_name("gil", one, interpreters["gil"])[0]
    assert name.startswith("own-gil-") and name == app_envs.env_name("gil", same, interpreters["gil"])[0]
    assert name != app_envs.env_name("gil", other, interpreters["gil"])[0]
    assert app_envs.env_name("ft", one, interpreters["ft"])[0].startswith("own-ft-")


def test_pip_index_url_is_honoured(tmp_path: Path, envs_here: Path, interpreters: dict[str, Interpreter],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """uv does not read PIP_INDEX_URL; the lab maps it, so an index nothing listens on is what uv tries."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("UV_NO_CACHE", "1")  # nothing answered from the cache instead of the index
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    with pytest.raises(app_envs.EnvironmentSetupError, match=r"127\.0\.0\.1:9/simple"):
        sync_app_envs(write(tmp_path / "requirements.txt", "six\n"), interpreters)


@slow
def test_an_index_that_never_answers_stops_uv_at_the_limit(tmp_path: Path, envs_here: Path,
                                                           interpreters: dict[str, Interpreter],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A real uv against an index that accepts connections and never answers: stopped at LAB_UV_TIMEOUT."""
    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(16)
        monkeypatch.setenv("UV_DEFAULT_INDEX", f"http://127.0.0.1:{blackhole.getsockname()[1]}/simple")
        monkeypatch.setenv("UV_NO_CACHE", "1")
        monkeypatch.setenv("UV_HTTP_TIMEOUT", "600")  # uv's own timeout would end it much later
        monkeypatch.setenv(app_envs.UV_TIMEOUT_ENV, "3")
        with pytest.raises(app_envs.EnvironmentSetupError, match=r"did not finish within 3 s.*LAB_UV_TIMEOUT"):
            sync_app_envs(write(tmp_path / "requirements.txt", "six\n"), interpreters)


# --- real installs -----------------------------------------------------------------------------


@slow
@pytest.mark.parametrize("kind", ["requirements.txt", "pyproject.toml"])
def test_a_small_requirements_file_gives_two_environments(kind: str, tmp_path: Path, envs_here: Path,
                                                          interpreters: dict[str, Interpreter]) -> None:
    if kind == "requirements.txt":
        source = write(tmp_path / "svc" / kind, "six>=1.16\nPyYAML>=6.0.3\n")
    else:
        source = write(tmp_path / "svc" / kind, '[project]\nname = "svc"\nversion = "1"\n'
                                                'dependencies = ["six>=1.16", "PyYAML>=6.0.3"]\n')
    result = sync_app_envs(source, interpreters)
    assert {path.name.split("-")[1] for path in envs_here.iterdir()} == {"gil", "ft"}  # only own-* envs, here
    for env, free_threaded in ((result.gil, False), (result.ft, True)):
        assert env.available and env.path.parent == envs_here
        assert {"six", "pyyaml", "fastapi", "uvicorn", "granian"} <= set(env.packages)
        facts = json.loads(run_in(env.python, (
            "import json, sys, sysconfig, yaml, gil_lab_layer.settings; "
            "print(json.dumps([sysconfig.get_config_var('Py_GIL_DISABLED') == 1, yaml.__with_libyaml__, "
            "'gil_lab_layer.gilwatch' in sys.modules]))"
        )))
        assert facts == [free_threaded, True, True]  # the right interpreter, the C extension, the .pth hook
    assert result.differences == ()
    assert result.to_json()["ft"]["unavailable"] is None


@slow
def test_a_second_sync_with_the_same_file_does_nothing(tmp_path: Path, envs_here: Path,
                                                       interpreters: dict[str, Interpreter]) -> None:
    source = write(tmp_path / "requirements.txt", "six>=1.16\n")
    first = sync_app_envs(source, interpreters)
    stamps = {path: (path / "gil-lab-env.json").stat().st_mtime_ns for path in (first.gil.path, first.ft.path)}
    started = time.monotonic()
    again = sync_app_envs(source, interpreters, uv=uv_that_must_not_run(tmp_path))
    elapsed = time.monotonic() - started
    assert again == first  # the same environments, read from their stamps, with no installer started
    assert {path: (path / "gil-lab-env.json").stat().st_mtime_ns for path in stamps} == stamps
    print(f"warm re-sync of both environments: {elapsed:.3f}s")
    write(source, "six>=1.16\n# a changed file is a new environment\n")
    with pytest.raises(app_envs.EnvironmentSetupError, match="exit 97"):
        sync_app_envs(source, interpreters, uv=uv_that_must_not_run(tmp_path))


@slow
def test_a_package_that_cannot_build_on_3_14t_leaves_3_14_built(tmp_path: Path, envs_here: Path,
                                                                interpreters: dict[str, Interpreter]) -> None:
    sdist = sdist_refusing_free_threading(tmp_path)
    source = write(tmp_path / "requirements.txt", f"six\ngil-lab-refuses-ft @ {sdist.as_uri()}\n")
    result = sync_app_envs(source, interpreters)
    assert result.gil.available and result.gil.packages["gil-lab-refuses-ft"] == "0.1"
    assert run_in(result.gil.python, "import gil_lab_refuses_ft as m; print(m.VERSION)").strip() == "0.1"
    assert not result.ft.available and not result.ft.python.exists()
    assert result.ft.unavailable is not None and result.ft.unavailable.package == "gil-lab-refuses-ft"
    assert "Failed to build `gil-lab-refuses-ft" in result.ft.unavailable.reason
    assert "RuntimeError: gil-lab-refuses-ft cannot be built for free-threaded Python" in result.ft.unavailable.reason
    assert result.to_json()["ft"]["unavailable"]["package"] == "gil-lab-refuses-ft"
    # The outcome is stamped too: the failing build is not retried until an input changes.
    assert sync_app_envs(source, interpreters, uv=uv_that_must_not_run(tmp_path)) == result


@slow
def test_a_pin_against_the_labs_own_requirements_names_both(tmp_path: Path, envs_here: Path,
                                                            interpreters: dict[str, Interpreter]) -> None:
    source = write(tmp_path / "requirements.txt", "six\nfastapi<0.100  # our old pin\n")
    with pytest.raises(RequirementsConflict) as caught:
        sync_app_envs(source, interpreters)
    assert caught.value.team == ["fastapi<0.100"]
    assert any(requirement.startswith("fastapi>=") for requirement in caught.value.lab)
    message = str(caught.value)
    assert f"yours ({source}): fastapi<0.100" in message and "the lab's" in message and "fastapi>=0.1" in message


@slow
def test_versions_resolved_differently_on_the_two_interpreters_are_listed(tmp_path: Path, envs_here: Path,
                                                                          interpreters: dict[str, Interpreter]) -> None:
    """2.0 ships only a 3.14 (cp314) wheel, 1.0 a pure one: 3.14 gets 2.0, 3.14t falls back to 1.0."""
    name = "gil-lab-testpkg-diff"
    source = offering(tmp_path, name, {"1.0": "py3-none-any", "2.0": f"cp314-cp314-{platform_tag()}"})
    result = sync_app_envs(source, interpreters)
    assert result.gil.available and result.ft.available
    assert [d.to_json() for d in result.differences] == [{"package": name, "gil": "2.0", "ft": "1.0"}]
    assert run_in(result.ft.python, "import gil_lab_testpkg_diff as m; print(m.VERSION)").strip() == "1.0"


@slow
def test_a_package_with_no_3_14t_wheel_and_no_source_leaves_3_14_built(tmp_path: Path, envs_here: Path,
                                                                      interpreters: dict[str, Interpreter]) -> None:
    name = "gil-lab-testpkg-gil-only"
    result = sync_app_envs(offering(tmp_path, name, {"1.0": f"cp314-cp314-{platform_tag()}"}), interpreters)
    assert result.gil.available and result.gil.packages[name] == "1.0"
    assert not result.ft.available and result.ft.unavailable is not None
    assert result.ft.unavailable.package == name
    assert "No solution found" in result.ft.unavailable.reason and name in result.ft.unavailable.reason
    assert result.differences == ()  # 3.14t has no lock to compare
