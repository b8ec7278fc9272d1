"""A cached build that lacks a wanted module: rebuilt once its headers appear, reported while they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.provision import cpython_release
from loadtests.provision.interpreters import resolve
from loadtests.provision.optional_modules import rebuild_would_add

from .conftest import built_without_zstd, include_dir_with_zstd, local_options, records


def test_a_build_lacking_zstd_is_rebuilt_once_the_header_is_installed(
        isolated_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    tarball, found = built_without_zstd(isolated_lab, headers_seen=[])
    before = records(found)
    capsys.readouterr()

    still_absent = resolve(local_options(source_tarball=str(tarball), header_dirs=(str(isolated_lab / "none"),)))
    err = capsys.readouterr().err
    assert "was built without _zstd; `apt-get install libzstd-dev` (or `make system-deps` as root)" in err
    assert records(still_absent) == before  # nothing rebuilt while the header is missing

    include = include_dir_with_zstd(isolated_lab)
    monkeypatch.setenv("FAKE_HEADERS", str(include))  # the fake configure now finds it too
    monkeypatch.setenv("LAB_PASS_ENV", "FAKE_HEADERS")  # builds get only the variables named for them
    rebuilt = resolve(local_options(source_tarball=str(tarball), header_dirs=(str(include),)))
    err = capsys.readouterr().err
    assert err.count("==> rebuild ") == 2 and "for _zstd: zstd.h installed since it was built" in err
    assert {role: i.path for role, i in rebuilt.items()} == {role: i.path for role, i in found.items()}
    after = records(rebuilt)
    for role in ("gil", "ft"):
        assert after[role]["missing_optional_modules"] == []
        assert after[role]["built_at"] > before[role]["built_at"]

    resolve(local_options(source_tarball=str(tarball), header_dirs=(str(include),)))
    assert "rebuild" not in capsys.readouterr().err  # complete now: nothing more to do


def test_a_header_already_seen_at_build_time_does_not_rebuild_again(
        isolated_lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tarball, found = built_without_zstd(isolated_lab, headers_seen=["zstd.h"])
    before = records(found)
    include = include_dir_with_zstd(isolated_lab)
    capsys.readouterr()
    resolve(local_options(source_tarball=str(tarball), header_dirs=(str(include),)))
    assert "rebuild" not in capsys.readouterr().err
    assert records(found) == before
    assert rebuild_would_add(before["ft"], ["zstd.h"]) == []
    assert rebuild_would_add({**before["ft"], "optional_headers_found": []}, ["zstd.h"]) == ["_zstd"]


def test_without_its_tarball_the_rebuild_is_explained_not_attempted(
        isolated_lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tarball, found = built_without_zstd(isolated_lab, headers_seen=[])
    tarball.unlink()
    include = include_dir_with_zstd(isolated_lab)
    capsys.readouterr()
    again = resolve(local_options(header_dirs=(str(include),)))
    err = capsys.readouterr().err
    assert again["ft"].path == found["ft"].path and again["ft"].source == "cache"
    assert "the headers are installed now, but the tarball it was built from" in err
    assert f"Place it in {cpython_release.sources_dir()}/ or name it with LAB_CPYTHON_SOURCE" in err
