"""Interpreter resolution: order, verification and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.core.errors import BuildError, InterpreterError
from loadtests.provision import cpython_build, cpython_release, interpreters
from loadtests.provision.interpreters import ResolveOptions, resolve, verify

from .conftest import (
    LocalServer,
    Route,
    local_options,
    make_fake_cpython_tarball,
    pinned_release_tarball,
    write_fake_python,
)


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
    found = resolve(local_options())
    assert (found["ft"].path, found["ft"].source) == (str(cached), "cache")
    assert (found["gil"].path, found["gil"].source) == (str(path_gil), "path")


def test_pyenv_is_used_when_nothing_else_is_there(isolated_lab: Path) -> None:
    gil = write_fake_python(isolated_lab / "pyenv" / "versions" / "3.14.7" / "bin" / "python3.14")
    ft = write_fake_python(isolated_lab / "pyenv" / "versions" / "3.14.7t" / "bin" / "python3.14t", free_threaded=True)
    found = resolve(local_options())
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
        resolve(local_options())
    message = str(info.value)
    assert "No free-threaded (python3.14t) interpreter found" in message
    assert "LAB_CPYTHON_SOURCE" in message and "standard GIL build" in message


def test_nothing_found_says_what_to_do(isolated_lab: Path) -> None:
    with pytest.raises(InterpreterError) as info:
        resolve(local_options())
    assert "LAB_PYTHON_GIL" in str(info.value) and "LAB_CPYTHON_SOURCE" in str(info.value)
    # the offline way out: the exact file, the exact directory, the checksum
    sources = (isolated_lab / "cache" / "sources").resolve()
    assert f"place Python-3.14.7.tar.xz (sha256 {cpython_release.PINNED_SHA256}) in {sources}/" in str(info.value)


def test_mismatched_versions_are_refused(isolated_lab: Path) -> None:
    gil = write_fake_python(isolated_lab / "a" / "gil", version="3.14.7")
    ft = write_fake_python(isolated_lab / "b" / "ft", version="3.15.0", free_threaded=True)
    with pytest.raises(InterpreterError):
        resolve(ResolveOptions(explicit={"gil": str(gil), "ft": str(ft)}))


def test_python_gil_never_leaks_into_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_GIL", "0")
    assert "PYTHON_GIL" not in interpreters.clean_env()


# ---- the ways out, in order ----------------------------------------------------------------------

def test_each_way_out_says_why_it_moved_on(isolated_lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InterpreterError) as info:
        resolve(ResolveOptions.from_env())  # LAB_UV_INSTALL=0 and LAB_CPYTHON_DOWNLOAD=0 (isolated_lab)
    err = capsys.readouterr().err
    stored = cpython_release.stored_tarball()
    assert (f"the source tarball on disk skipped: LAB_CPYTHON_SOURCE is not set and {stored} does not exist; "
            "trying uv python install") in err
    assert "uv python install skipped: LAB_UV_INSTALL=0; trying the source tarball download" in err
    assert "the source tarball download skipped: LAB_CPYTHON_DOWNLOAD=0" in err
    assert "Tried:\n  - the source tarball on disk: skipped" in str(info.value)


def test_switches_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_UV_INSTALL", "0")
    monkeypatch.setenv("LAB_CPYTHON_DOWNLOAD", "0")
    monkeypatch.setenv("LAB_CPYTHON_MIRROR", "http://mirror.example/python/")
    options = ResolveOptions.from_env()
    assert (options.allow_uv_install, options.allow_download, options.mirror) == (False, False,
                                                                                 "http://mirror.example/python/")
    monkeypatch.setenv("LAB_UV_INSTALL", "1")
    monkeypatch.delenv("LAB_CPYTHON_DOWNLOAD")
    monkeypatch.delenv("LAB_CPYTHON_MIRROR")
    options = ResolveOptions.from_env()
    assert (options.allow_uv_install, options.allow_download, options.mirror) == (True, True, None)


def test_the_download_comes_last_from_the_mirror_layout(isolated_lab: Path, http_server: LocalServer) -> None:
    """Nothing on disk, uv off: the pinned tarball is asked of LAB_CPYTHON_MIRROR, and its failure is reported."""
    with pytest.raises(InterpreterError) as info:
        resolve(local_options(allow_download=True, mirror=http_server.url + "/python/"))
    assert http_server.requests == ["/python/3.14.7/Python-3.14.7.tar.xz"]
    assert "the source tarball download: failed: " in str(info.value) and "HTTP 404" in str(info.value)
    assert not cpython_release.stored_tarball().exists()


def test_a_named_cpython_source_that_is_missing_is_an_error_not_a_reason_to_go_online(
        isolated_lab: Path, http_server: LocalServer) -> None:
    http_server.routes["/3.14.7/Python-3.14.7.tar.xz"] = [Route(status=500)]
    with pytest.raises(BuildError, match="CPython source tarball not found"):
        resolve(local_options(source_tarball=str(isolated_lab / "nope.tar.xz"), allow_download=True,
                              mirror=http_server.url))
    assert http_server.requests == []


def test_cpython_source_builds_only_the_missing_interpreter(isolated_lab: Path) -> None:
    """A real ./configure, make and make install of a tiny fake source tree; 3.14 comes from PATH."""
    path_gil = write_fake_python(isolated_lab / "bin" / "python3.14")
    tarball = make_fake_cpython_tarball(isolated_lab / "src" / "Python-3.14.0.tar.xz")
    found = resolve(local_options(source_tarball=str(tarball)))
    assert (found["gil"].path, found["gil"].source) == (str(path_gil), "path")
    assert found["ft"].source == "source-build" and found["ft"].free_threaded
    assert found["ft"].build is not None and found["ft"].build["configure_flags"] == ["--disable-gil"]
    entries = sorted(p.name.split("-")[0] for p in (isolated_lab / "cache" / "cpython").glob("*/*-*"))
    assert entries == ["ft"]  # no 3.14 was built: one was already there
    again = resolve(local_options(source_tarball=str(tarball)))
    assert again["ft"].source == "cache" and again["ft"].path == found["ft"].path


def test_a_tarball_placed_in_the_source_cache_is_used_before_any_network_step(
        isolated_lab: Path, http_server: LocalServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The real release file in <cache>/sources/ is picked; the build then stops at the (absent) toolchain."""
    release = pinned_release_tarball()
    if release is None:
        pytest.skip("no copy of Python-3.14.7.tar.xz on this machine (../shared/cpython)")
    stored = cpython_release.stored_tarball()
    stored.parent.mkdir(parents=True)
    stored.symlink_to(release)
    monkeypatch.setenv("PATH", str(isolated_lab / "bin"))  # no make, no cc: nothing is compiled
    with pytest.raises(BuildError, match="make"):
        resolve(ResolveOptions(allow_uv_install=True, allow_download=True, mirror=http_server.url))
    err = capsys.readouterr().err
    assert f"==> build python3.14 and python3.14t from {stored} " in err
    assert "uv python install" not in err and "install uv" not in err and "download" not in err
    assert http_server.requests == []


def test_a_wrong_file_in_the_source_cache_is_ignored_and_named(isolated_lab: Path) -> None:
    stored = make_fake_cpython_tarball(cpython_release.stored_tarball())
    with pytest.raises(InterpreterError) as info:
        resolve(local_options())
    message = str(info.value)
    assert f"{stored} is not the pinned release" in message and cpython_build.sha256_of(stored) in message
