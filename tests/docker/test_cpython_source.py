"""How an image build gets the CPython tarball: docker/fetch-cpython.sh, run for real without an engine.

The script is what the Dockerfile's ``cpython-source`` stage runs; here it runs under
bash with curl against a real HTTP mirror on 127.0.0.1 serving python.org's layout.
A small random "tarball" and its sha256 stand in for the release, since the script
takes both as arguments; that the Dockerfile passes the pinned ones is checked by
docker/validate.py and below.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtests.provision import cpython_release
from tests.docker.docker_modules import load

DOCKER_DIR = Path(__file__).resolve().parents[2] / "docker"
SCRIPT = DOCKER_DIR / "fetch-cpython.sh"
VERSION = "3.14.7"
NAME = f"Python-{VERSION}.tar.xz"
dm = load("validate").dm


@dataclass
class Mirror:
    url: str
    root: Path
    requests: list[str] = field(default_factory=list)

    def publish(self, data: bytes) -> None:
        (self.root / VERSION).mkdir(parents=True, exist_ok=True)
        (self.root / VERSION / NAME).write_bytes(data)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    """A directory served over HTTP on 127.0.0.1, recording the paths asked for."""
    state = Mirror("", tmp_path / "mirror")
    state.root.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            state.requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(state.root)))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def release_bytes() -> bytes:
    return os.urandom(4096)


def fetch(context: Path, dest: Path, sha256: str, mirror_url: str) -> subprocess.CompletedProcess[str]:
    context.mkdir(exist_ok=True)
    return subprocess.run(["bash", str(SCRIPT), str(context), str(dest), VERSION, sha256, mirror_url],
                          capture_output=True, text=True, timeout=120)


def nothing_left(dest: Path) -> bool:
    return not dest.exists() and not dest.with_name(dest.name + ".part").exists()


def test_a_tarball_in_the_context_is_used_without_the_network(tmp_path: Path, closed_port_url: str) -> None:
    data = release_bytes()
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / NAME).write_bytes(data)
    proc = fetch(tmp_path / "ctx", tmp_path / "source.tar.xz", hashlib.sha256(data).hexdigest(), closed_port_url)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "source.tar.xz").read_bytes() == data
    assert "from the cpython-src-dir build context" in proc.stdout


def test_an_empty_context_downloads_from_the_mirror(tmp_path: Path, mirror: Mirror) -> None:
    data = release_bytes()
    mirror.publish(data)
    proc = fetch(tmp_path / "ctx", tmp_path / "source.tar.xz", hashlib.sha256(data).hexdigest(), mirror.url)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "source.tar.xz").read_bytes() == data
    assert mirror.requests == [f"/{VERSION}/{NAME}"]


def test_a_download_with_another_checksum_is_refused(tmp_path: Path, mirror: Mirror) -> None:
    mirror.publish(release_bytes())
    dest = tmp_path / "source.tar.xz"
    proc = fetch(tmp_path / "ctx", dest, "0" * 64, mirror.url)
    assert proc.returncode == 1
    assert f"not the pinned {'0' * 64}" in proc.stderr and mirror.url in proc.stderr
    assert nothing_left(dest)


def test_a_wrong_file_in_the_context_is_refused_and_nothing_is_downloaded(tmp_path: Path, mirror: Mirror) -> None:
    good = release_bytes()
    mirror.publish(good)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / NAME).write_bytes(b"not the release")
    dest = tmp_path / "source.tar.xz"
    proc = fetch(tmp_path / "ctx", dest, hashlib.sha256(good).hexdigest(), mirror.url)
    assert proc.returncode == 1 and "from the cpython-src-dir build context" in proc.stderr
    assert mirror.requests == [] and nothing_left(dest)


@pytest.mark.parametrize("where", ["unreachable", "missing"])
def test_no_source_at_all_names_both_ways_out(tmp_path: Path, mirror: Mirror, closed_port_url: str,
                                             where: str) -> None:
    dest = tmp_path / "source.tar.xz"
    proc = fetch(tmp_path / "ctx", dest, "0" * 64, closed_port_url if where == "unreachable" else mirror.url)
    assert proc.returncode == 1
    assert "LAB_CPYTHON_MIRROR" in proc.stderr and "LAB_CPYTHON_SRC_DIR" in proc.stderr
    assert "cpython-src-dir=DIR" in proc.stderr and nothing_left(dest)


def test_the_dockerfile_runs_the_script_with_the_pinned_release() -> None:
    dockerfile = DOCKER_DIR / "Dockerfile"
    defaults = dm.global_args(dockerfile.read_text())
    assert defaults["CPYTHON_VERSION"] == cpython_release.PINNED_VERSION
    assert defaults["LAB_CPYTHON_SHA256"] == cpython_release.PINNED_SHA256
    assert defaults["LAB_CPYTHON_MIRROR"] == cpython_release.DEFAULT_MIRROR
    [run] = dm.read(dockerfile)["cpython-source"].all("RUN")
    assert ('fetch-cpython.sh /context /cpython/source.tar.xz "$CPYTHON_VERSION" "$LAB_CPYTHON_SHA256" '
            '"$LAB_CPYTHON_MIRROR"') in run.args
    assert "source=docker/fetch-cpython.sh" in run.args
