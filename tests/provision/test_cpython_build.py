"""The source build: tarball checks, cache keys, and what a failed build tells the user."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from pathlib import Path

import pytest

from loadtests.core.errors import BuildError
from loadtests.provision import cpython_build
from loadtests.provision.cpython_build import BuildSpec, build_lock, missing_modules, packages_for, verify_tarball
from loadtests.provision.cpython_release import PINNED_SHA256
from loadtests.provision.optional_modules import MODULE_HEADERS

from .conftest import make_fake_cpython_tarball


def make_tarball(path: Path) -> Path:
    with tarfile.open(path, "w:xz") as tf:
        data = b"#!/bin/sh\n"
        info = tarfile.TarInfo("Python-3.14.0/configure")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


def test_hash_is_checked_and_recorded(tmp_path: Path) -> None:
    tarball = make_tarball(tmp_path / "Python-3.14.0.tar.xz")
    digest = cpython_build.sha256_of(tarball)
    assert verify_tarball(tarball, digest.upper()) == digest
    with pytest.raises(BuildError, match="sha256 mismatch"):
        verify_tarball(tarball, "0" * 64)


def test_a_tarball_of_the_pinned_release_without_a_checksum_is_checked_against_the_pin(tmp_path: Path) -> None:
    """LAB_CPYTHON_SOURCE alone: the lab still knows what 3.14.7 must hash to, by file name or top directory."""
    for tarball in (make_fake_cpython_tarball(tmp_path / "a" / "Python-3.14.7.tar.xz", version="3.14.0"),
                    make_fake_cpython_tarball(tmp_path / "b" / "source.tar.xz", version="3.14.7")):
        with pytest.raises(BuildError, match=rf"says it is CPython 3\.14\.7.*\n  expected {PINNED_SHA256}"):
            verify_tarball(tarball, None)
    other = make_fake_cpython_tarball(tmp_path / "c" / "Python-3.14.0.tar.xz")
    assert verify_tarball(other, None) == cpython_build.sha256_of(other)  # no pin for 3.14.0: recorded, not checked


def test_corrupt_tarball_is_a_clear_error(tmp_path: Path) -> None:
    good = make_tarball(tmp_path / "good.tar.xz").read_bytes()
    corrupt = tmp_path / "Python-3.14.0.tar.xz"
    corrupt.write_bytes(good[: len(good) // 2])
    with pytest.raises(BuildError, match="truncated|not a readable tar"):
        verify_tarball(corrupt, None)


def test_missing_tarball_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="LAB_CPYTHON_SOURCE"):
        verify_tarball(tmp_path / "nope.tar.xz", None)


def test_flags_differ_only_by_disable_gil() -> None:
    gil = BuildSpec(Path("t"), "a" * 64, "gil", optimized=False)
    ft = BuildSpec(Path("t"), "a" * 64, "ft", optimized=False)
    assert ft.configure_flags == gil.configure_flags + ["--disable-gil"]
    opt_gil = BuildSpec(Path("t"), "a" * 64, "gil", optimized=True)
    opt_ft = BuildSpec(Path("t"), "a" * 64, "ft", optimized=True)
    assert opt_ft.configure_flags == opt_gil.configure_flags + ["--disable-gil"]
    assert "--enable-optimizations" in opt_gil.configure_flags and "--with-lto" in opt_gil.configure_flags


def test_cache_key_depends_on_tarball_hash_and_flags(tmp_path: Path) -> None:
    base = BuildSpec(Path("t"), "a" * 64, "ft", optimized=False)
    assert base.install_dir(tmp_path) == BuildSpec(Path("elsewhere"), "a" * 64, "ft", False).install_dir(tmp_path)
    assert base.install_dir(tmp_path) != BuildSpec(Path("t"), "b" * 64, "ft", False).install_dir(tmp_path)
    assert base.install_dir(tmp_path) != BuildSpec(Path("t"), "a" * 64, "ft", True).install_dir(tmp_path)
    assert base.install_dir(tmp_path) != BuildSpec(Path("t"), "a" * 64, "gil", False).install_dir(tmp_path)


def test_a_cache_entry_without_its_record_is_not_reused(tmp_path: Path) -> None:
    spec = BuildSpec(Path("t"), "a" * 64, "gil", optimized=False)
    exe = spec.install_dir(tmp_path) / "bin" / "python3.14"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    assert cpython_build.cached_build(spec, tmp_path) is None  # half-finished: no gil-lab-build.json
    (spec.install_dir(tmp_path) / "gil-lab-build.json").write_text("{}")
    assert cpython_build.cached_build(spec, tmp_path) == exe


def test_build_failure_names_missing_packages() -> None:
    log = (
        "gcc -c Modules/_ssl.c\nModules/_ssl.c:27:10: fatal error: openssl/ssl.h: No such file or directory\n"
        "The necessary bits to build these optional modules were not found:\n_bz2  _lzma  readline\n\n"
    )
    assert missing_modules(log) == ["_bz2", "_lzma", "readline"]
    assert packages_for(log) == ["libbz2-dev", "liblzma-dev", "libreadline-dev", "libssl-dev"]


def test_configure_summary_lines_are_understood() -> None:
    log = "checking for stdlib extension module _zstd... missing\nchecking for stdlib extension module _ssl... yes\n"
    assert missing_modules(log) == ["_zstd"]
    assert packages_for(log) == ["libzstd-dev"]


@pytest.mark.slow
def test_lock_serialises_concurrent_setups(tmp_path: Path) -> None:
    events: list[str] = []

    def worker(name: str) -> None:
        with build_lock(tmp_path):
            events.append(f"{name}-in")
            time.sleep(0.2)
            events.append(f"{name}-out")

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whoever entered first left before the other entered.
    assert events[0][0] == events[1][0] and events[2][0] == events[3][0]


def test_a_build_records_the_headers_it_saw_and_a_replacement_takes_its_place(tmp_path: Path) -> None:
    """Real configure/make/make install of a tiny fake source tree, built, then built again in place."""
    tarball = make_fake_cpython_tarball(tmp_path / "Python-3.14.0.tar.xz", missing=("_zstd",))
    spec = BuildSpec(tarball, cpython_build.sha256_of(tarball), "ft", optimized=False)
    with build_lock(tmp_path):
        first = cpython_build.build(spec, tmp_path)
    record = cpython_build.read_build_record(first)
    assert record is not None and record["missing_optional_modules"] == ["_zstd"]
    seen = record["optional_headers_found"]
    assert isinstance(seen, list) and set(seen) <= set(MODULE_HEADERS.values())
    with build_lock(tmp_path):
        assert cpython_build.build(spec, tmp_path) == first  # reused
        again = cpython_build.build(spec, tmp_path, replace=True)
    assert again == first
    replaced = cpython_build.read_build_record(again)
    assert replaced is not None and replaced["built_at"] > record["built_at"]
    assert [p.name for p in spec.install_dir(tmp_path).parent.iterdir() if p.name.startswith(".build")] == []
