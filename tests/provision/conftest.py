"""Fixtures for provisioning: fake interpreters, a fake CPython source tree, a local HTTP mirror."""

from __future__ import annotations

import io
import json
import os
import stat
import sysconfig
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtests.core.paths import PROJECT_ROOT
from loadtests.provision.cpython_release import TARBALL_NAME
from loadtests.provision.interpreters import Interpreter, ResolveOptions, resolve
from loadtests.provision.optional_modules import MODULE_HEADERS


def write_fake_python(path: Path, *, version: str = "3.14.7", free_threaded: bool = False,
                      gil_enabled: bool | None = None) -> Path:
    """An executable that answers the interpreter probe like a real CPython would."""
    facts = {
        "executable": str(path), "version": version, "implementation": "cpython",
        "free_threaded": free_threaded,
        "gil_enabled": (not free_threaded) if gil_enabled is None else gil_enabled,
        "gil_flag": None, "configure_args": "'--disable-gil'" if free_threaded else "", "prefix": str(path.parent),
        "compiler": "GCC fake",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ncat <<'JSON'\n{json.dumps(facts)}\nJSON\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def isolated_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real interpreter leaks in: empty PATH extras, empty pyenv, private cache, no uv, no network steps."""
    for var in ("LAB_PYTHON_GIL", "LAB_PYTHON_FT", "LAB_CPYTHON_SOURCE", "LAB_CPYTHON_SHA256", "LAB_PYTHON_VERSION",
                "LAB_CPYTHON_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("LAB_UV_INSTALL", "0")
    monkeypatch.setenv("LAB_CPYTHON_DOWNLOAD", "0")
    return tmp_path


def local_options(**values: object) -> ResolveOptions:
    """Resolution that never goes online: no uv python install, no download."""
    return ResolveOptions(**{"allow_uv_install": False, "allow_download": False, **values})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def provisioned() -> dict:
    """The real interpreters recorded by `make setup`; skip if the lab is not set up."""
    state = PROJECT_ROOT / ".envs" / "interpreters.json"
    if not state.is_file():
        pytest.skip("the lab is not set up; run `make setup`")
    return json.loads(state.read_text())


# ---- a fake CPython source tree: real tar, real ./configure, real make, in a second ----------------

_CONFIGURE = """#!/bin/sh
prefix=/usr/local; ft=false; gil=true; suffix=
for arg in "$@"; do
  case "$arg" in
    --prefix=*) prefix="${arg#--prefix=}" ;;
    --disable-gil) ft=true; gil=false; suffix=t ;;
  esac
done
echo "checking for stdlib extension module _ssl... yes"
MISSING_LINES
{ echo "PREFIX=$prefix"; echo "FT=$ft"; echo "GIL=$gil"; echo "SUFFIX=$suffix"; cat Makefile.in; } > Makefile
"""
_MAKEFILE = """all:
\t@echo compiled
install:
\tmkdir -p $(DESTDIR)$(PREFIX)/bin
\tsed -e 's/@FT@/$(FT)/' -e 's/@GIL@/$(GIL)/' fake-python.in > $(DESTDIR)$(PREFIX)/bin/python3.14$(SUFFIX)
\tchmod +x $(DESTDIR)$(PREFIX)/bin/python3.14$(SUFFIX)
"""
_FAKE_PYTHON = """#!/bin/sh
cat <<JSON
{"executable": "$0", "version": "VERSION", "implementation": "cpython", "free_threaded": @FT@, \
"gil_enabled": @GIL@, "gil_flag": null, "configure_args": "", "prefix": "", "compiler": "fake"}
JSON
"""


def make_fake_cpython_tarball(path: Path, *, version: str = "3.14.0", missing: tuple[str, ...] = ()) -> Path:
    """A source tarball whose configure/make/make install produce a fake interpreter of ``version``.

    ``missing`` modules are reported by configure the way CPython reports them, unless
    their header is in the directory named by ``$FAKE_HEADERS``.
    """
    lines = "\n".join(f'[ -f "$FAKE_HEADERS/{MODULE_HEADERS[m]}" ] || '
                      f'echo "checking for stdlib extension module {m}... missing"' for m in missing)
    files = {
        "configure": (_CONFIGURE.replace("MISSING_LINES", lines), 0o755),
        "Makefile.in": (_MAKEFILE, 0o644),
        "fake-python.in": (_FAKE_PYTHON.replace("VERSION", version), 0o644),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:xz") as tf:
        for name, (text, mode) in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"Python-{version}/{name}")
            info.size, info.mode = len(data), mode
            tf.addfile(info, io.BytesIO(data))
    return path


def pinned_release_tarball() -> Path | None:
    """The real CPython 3.14.7 tarball, where this machine keeps one (``../shared/cpython``), else None."""
    candidates = [os.environ.get("LAB_CPYTHON_SOURCE", "")]
    candidates += [str(base / "shared" / "cpython" / TARBALL_NAME) for base in PROJECT_ROOT.parents[:2]]
    for candidate in candidates:
        if candidate and Path(candidate).name == TARBALL_NAME and Path(candidate).is_file():
            return Path(candidate)
    return None


def built_without_zstd(lab: Path, headers_seen: list[str]) -> tuple[Path, dict[str, Interpreter]]:
    """Both interpreters really built (fake source) without _zstd, with records saying which headers were seen."""
    tarball = make_fake_cpython_tarball(lab / "src" / "Python-3.14.0.tar.xz", missing=("_zstd",))
    found = resolve(local_options(source_tarball=str(tarball), header_dirs=()))
    for interpreter in found.values():
        record_file = Path(interpreter.path).parent.parent / "gil-lab-build.json"
        record = json.loads(record_file.read_text())
        assert record["missing_optional_modules"] == ["_zstd"]
        record["optional_headers_found"] = headers_seen  # what the compiler saw back then
        record_file.write_text(json.dumps(record))
    return tarball, found


def records(found: dict[str, Interpreter]) -> dict[str, dict]:
    return {role: json.loads((Path(i.path).parent.parent / "gil-lab-build.json").read_text())
            for role, i in found.items()}


def include_dir_with_zstd(lab: Path) -> Path:
    include = lab / "include"
    include.mkdir(exist_ok=True)
    (include / "zstd.h").write_text("/* the header libzstd-dev installs */\n")
    return include


# ---- a local HTTP server on 127.0.0.1 ---------------------------------------------------------------

@dataclass
class Route:
    """What the server does for one path: send ``body`` (announcing ``length``), answer ``status``, or stay silent."""

    body: bytes = b""
    status: int = 200
    length: int | None = None  # Content-Length to announce; more than len(body) makes a truncated download
    silent: bool = False  # read the request, never answer


@dataclass
class LocalServer:
    url: str
    routes: dict[str, list[Route]]  # each request takes the first route; the last one stays
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server in a thread, bound to 127.0.0.1, that records every path requested."""
    release = threading.Event()
    state = LocalServer(url="", routes={})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            queue = state.routes.get(self.path)
            route = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Route(status=404)
            if route.silent:
                release.wait(60)
                return
            self.send_response(route.status)
            self.send_header("Content-Length", str(route.length if route.length is not None else len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="session")
def interpreters() -> dict[str, Interpreter]:
    """The interpreters `make setup` recorded (3.14 and 3.14t); skip when the lab is not set up."""
    state = PROJECT_ROOT / ".envs" / "interpreters.json"
    if not state.is_file():
        pytest.skip("the lab is not set up; run `make setup`")
    data = json.loads(state.read_text())
    return {role: Interpreter(**{k: v for k, v in info.items() if k != "label"}) for role, info in data.items()}


@pytest.fixture
def envs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private .envs/ for the test, so the lab's own environments are never touched."""
    where = tmp_path / "envs"
    where.mkdir()
    monkeypatch.setenv("LAB_ENVS_DIR", str(where))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX"):
        monkeypatch.delenv(name, raising=False)
    return where


def platform_tag() -> str:
    """This machine's wheel platform tag, e.g. ``linux_x86_64``."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")
