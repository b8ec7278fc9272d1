"""Interpreter resolution: order, verification and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.core.errors import InterpreterError
from loadtests.provision import cpython_build, interpreters
from loadtests.provision.interpreters import ResolveOptions, resolve, verify

from .conftest import write_fake_python


def fake_cached_build(cache: Path, role: str) -> Path:
    """A finished cache entry, as cpython_build leaves it, with a fake interpreter inside."""
    spec = cpython_build.BuildSpec(Path("x.tar.xz"), "ab" * 32, role, optimized=False)
    prefix = spec.install_dir(cache)
    exe = write_fake_python(prefix / "bin" / ("python3.14t" if role == "ft" else "python3.14"),
                            free_threaded=role == "ft")
    (prefix / "gil-lab-build.json").write_text(json.dumps({"flavour": role, "tarball_sha256": "ab" * 32,
                                                           "configure_flags": spec.configure_flags}))
    return exe


def test_explicit_paths_win_over_everything(isolated_lab: Path) -> None:
    write_fake_python(isolated_lab / "bin" / "python3.14")
    write_fake_python(isolated_lab / "bin" / "python3.14t", free_threaded=True)
    gil = write_fake_python(isolated_lab / "mine" / "gil")
    ft = write_fake_python(isolated_lab / "mine" / "ft", free_threaded=True)
    found = resolve(ResolveOptions(explicit={"gil": str(gil), "ft": str(ft)}))
    assert (found["gil"].path, found["gil"].source) == (str(gil), "explicit")
    assert (found["ft"].path, found["ft"].source) == (str(ft), "explicit")


def test_env_vars_are_explicit_paths(isolated_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gil = write_fake_python(isolated_lab / "mine" / "gil")
    ft = write_fake_python(isolated_lab / "mine" / "ft", free_threaded=True)
    monkeypatch.setenv("LAB_PYTHON_GIL", str(gil))
    monkeypatch.setenv("LAB_PYTHON_FT", str(ft))
    found = resolve(ResolveOptions.from_env())
    assert found["gil"].path == str(gil) and found["ft"].path == str(ft)


def test_cache_comes_before_path_and_pyenv(isolated_lab: Path) -> None:
    cached = fake_cached_build(isolated_lab / "cache", "ft")
    write_fake_python(isolated_lab / "bin" / "python3.14t", free_threaded=True)
    path_gil = write_fake_python(isolated_lab / "bin" / "python3.14")
    write_fake_python(isolated_lab / "pyenv" / "versions" / "3.14.7" / "bin" / "python3.14")
    found = resolve(ResolveOptions())
    assert (found["ft"].path, found["ft"].source) == (str(cached), "cache")
    assert (found["gil"].path, found["gil"].source) == (str(path_gil), "path")


def test_pyenv_is_used_when_nothing_else_is_there(isolated_lab: Path) -> None:
    gil = write_fake_python(isolated_lab / "pyenv" / "versions" / "3.14.7" / "bin" / "python3.14")
    ft = write_fake_python(isolated_lab / "pyenv" / "versions" / "3.14.7t" / "bin" / "python3.14t", free_threaded=True)
    found = resolve(ResolveOptions())
    assert found["gil"].path == str(gil) and found["gil"].source == "pyenv"
    assert found["ft"].path == str(ft) and found["ft"].source == "pyenv"


def test_a_gil_build_offered_as_free_threaded_is_rejected(isolated_lab: Path) -> None:
    impostor = write_fake_python(isolated_lab / "mine" / "python3.14t", free_threaded=False)
    with pytest.raises(InterpreterError, match="standard GIL build"):
        verify(impostor, "ft", "3.14", "explicit")


def test_free_threaded_build_with_gil_on_at_start_is_rejected(isolated_lab: Path) -> None:
    broken = write_fake_python(isolated_lab / "mine" / "python3.14t", free_threaded=True, gil_enabled=True)
    with pytest.raises(InterpreterError, match="GIL is enabled at start"):
        verify(broken, "ft", "3.14", "explicit")


def test_wrong_version_is_rejected(isolated_lab: Path) -> None:
    old = write_fake_python(isolated_lab / "mine" / "python", version="3.13.5")
    with pytest.raises(InterpreterError, match="3.13.5"):
        verify(old, "gil", "3.14", "explicit")


def test_wrong_explicit_candidate_is_an_error_not_a_fallback(isolated_lab: Path) -> None:
    write_fake_python(isolated_lab / "bin" / "python3.14t", free_threaded=True)
    impostor = write_fake_python(isolated_lab / "mine" / "ft", free_threaded=False)
    write_fake_python(isolated_lab / "bin" / "python3.14")
    with pytest.raises(InterpreterError, match="standard GIL build"):
        resolve(ResolveOptions(explicit={"ft": str(impostor)}))


def test_rejected_machine_candidates_fall_through_and_are_named(isolated_lab: Path) -> None:
    write_fake_python(isolated_lab / "bin" / "python3.14t", free_threaded=False)  # a mislabelled binary
    write_fake_python(isolated_lab / "bin" / "python3.14")
    with pytest.raises(InterpreterError) as info:
        resolve(ResolveOptions())
    message = str(info.value)
    assert "No free-threaded (python3.14t) interpreter found" in message
    assert "CPYTHON_SOURCE" in message and "standard GIL build" in message


def test_nothing_found_says_what_to_do(isolated_lab: Path) -> None:
    with pytest.raises(InterpreterError) as info:
        resolve(ResolveOptions())
    assert "LAB_PYTHON_GIL" in str(info.value) and "CPYTHON_SOURCE" in str(info.value)


def test_mismatched_versions_are_refused(isolated_lab: Path) -> None:
    gil = write_fake_python(isolated_lab / "a" / "gil", version="3.14.7")
    ft = write_fake_python(isolated_lab / "b" / "ft", version="3.15.0", free_threaded=True)
    with pytest.raises(InterpreterError):
        resolve(ResolveOptions(explicit={"gil": str(gil), "ft": str(ft)}))


def test_python_gil_never_leaks_into_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_GIL", "0")
    assert "PYTHON_GIL" not in interpreters.clean_env()
