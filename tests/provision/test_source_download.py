"""Downloading the pinned source tarball, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from loadtests.core.errors import DownloadError
from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision import acquisition, cpython_build, cpython_release, source_download

from .conftest import LocalServer, Route, local_options, make_fake_cpython_tarball, pinned_release_tarball

PATH = f"/{cpython_release.PINNED_VERSION}/{cpython_release.TARBALL_NAME}"


@pytest.fixture
def tarball(tmp_path: Path) -> bytes:
    return make_fake_cpython_tarball(tmp_path / "served" / cpython_release.TARBALL_NAME).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def nothing_landed(dest: Path) -> bool:
    """Neither the target nor a partial file is left behind."""
    partial = source_download.partial_dir(dest)
    return not dest.exists() and not (partial.exists() and any(partial.iterdir()))


def test_a_good_file_is_stored_under_its_name(http_server: LocalServer, tarball: bytes, tmp_path: Path) -> None:
    http_server.routes[PATH] = [Route(body=tarball)]
    dest = tmp_path / "cache" / "sources" / cpython_release.TARBALL_NAME
    url = cpython_release.tarball_url(http_server.url + "/")
    assert source_download.download(url, dest, sha(tarball)) == dest
    assert dest.read_bytes() == tarball
    assert http_server.requests == [PATH]
    assert not source_download.partial_dir(dest).exists()


def test_a_truncated_file_never_lands(http_server: LocalServer, tarball: bytes, tmp_path: Path) -> None:
    http_server.routes[PATH] = [Route(body=tarball[: len(tarball) // 2], length=len(tarball))]
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    with pytest.raises(DownloadError, match="connection closed after") as info:
        source_download.download(http_server.url + PATH, dest, sha(tarball), attempts=2)
    assert "2 attempt(s)" in str(info.value)
    assert len(http_server.requests) == 2  # a dropped connection is worth one more try
    assert nothing_landed(dest)


def test_a_wrong_checksum_never_lands_and_names_both_sums(http_server: LocalServer, tarball: bytes,
                                                          tmp_path: Path) -> None:
    http_server.routes[PATH] = [Route(body=tarball)]
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    with pytest.raises(DownloadError) as info:
        source_download.download(http_server.url + PATH, dest, "0" * 64)
    message = str(info.value)
    assert sha(tarball) in message and "0" * 64 in message and "LAB_CPYTHON_MIRROR" in message
    assert len(http_server.requests) == 1  # the same file again would not help
    assert nothing_landed(dest)


def test_a_404_names_the_mirror_variable_and_is_not_retried(http_server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        source_download.download(http_server.url + PATH, dest, "0" * 64)
    assert "does not have this release" in str(info.value) and "LAB_CPYTHON_MIRROR" in str(info.value)
    assert http_server.requests == [PATH]
    assert nothing_landed(dest)


@pytest.mark.slow
def test_a_server_that_never_answers_times_out(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.routes[PATH] = [Route(silent=True)]
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    with pytest.raises(DownloadError, match="no answer within 0.5 s") as info:
        source_download.download(http_server.url + PATH, dest, "0" * 64, attempt_timeout=0.5, total_timeout=1.0)
    assert "within 1 s" in str(info.value)
    assert 1 <= len(http_server.requests) <= 2  # the deadline, not the attempt count, stopped it
    assert nothing_landed(dest)


def test_a_server_error_is_retried_then_the_file_lands(http_server: LocalServer, tarball: bytes,
                                                       tmp_path: Path) -> None:
    http_server.routes[PATH] = [Route(status=503), Route(body=tarball)]
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    assert source_download.download(http_server.url + PATH, dest, sha(tarball)).read_bytes() == tarball
    assert http_server.requests == [PATH, PATH]


def test_a_refused_connection_is_a_download_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dest = tmp_path / "sources" / cpython_release.TARBALL_NAME
    with pytest.raises(DownloadError, match="refused"):
        source_download.download(f"http://127.0.0.1:{port}{PATH}", dest, "0" * 64, attempts=1)
    assert nothing_landed(dest)


def test_the_download_way_out_stores_the_tarball_then_builds_from_it(
        isolated_lab: Path, http_server: LocalServer, tarball: bytes) -> None:
    """The whole last stage for real: download from the mirror, store in <cache>/sources/, configure, make."""
    http_server.routes[PATH] = [Route(body=tarball)]
    options = local_options(allow_download=True, mirror=http_server.url)
    built = acquisition.download_and_build(options, ("ft",), expected_sha256=sha(tarball))
    stored = cpython_release.stored_tarball()
    assert stored.read_bytes() == tarball and http_server.requests == [PATH]
    record = cpython_build.read_build_record(built["ft"])
    assert record is not None and record["tarball"] == str(stored) and record["tarball_sha256"] == sha(tarball)


def test_the_pinned_checksum_is_the_release_files_and_the_dockerfiles() -> None:
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    assert f"ARG LAB_CPYTHON_SHA256={cpython_release.PINNED_SHA256}\n" in dockerfile
    assert f"ARG CPYTHON_VERSION={cpython_release.PINNED_VERSION}\n" in dockerfile
    assert f"ARG LAB_CPYTHON_MIRROR={cpython_release.DEFAULT_MIRROR}\n" in dockerfile
    release = pinned_release_tarball()
    if release is None:
        pytest.skip("no copy of the release file on this machine (../shared/cpython)")
    assert cpython_build.sha256_of(release) == cpython_release.PINNED_SHA256
    sums = release.with_name("SHA256SUMS")
    if sums.is_file():
        assert f"{cpython_release.PINNED_SHA256}  {cpython_release.TARBALL_NAME}" in sums.read_text()
