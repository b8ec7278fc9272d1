"""The ways out when the machine has no usable 3.14 or 3.14t, in the order the lab takes them.

1. a CPython source tarball already on disk: ``LAB_CPYTHON_SOURCE``, or the pinned
   release in ``<lab cache>/sources/`` (no network at all);
2. ``uv python install`` (``LAB_UV_INSTALL=0`` skips it), with the machine's uv or one
   the lab installs from PyPI into its cache;
3. the pinned release downloaded from ``LAB_CPYTHON_MIRROR`` (python.org by default),
   checked against its sha256 and stored in ``<lab cache>/sources/``
   (``LAB_CPYTHON_DOWNLOAD=0`` skips it).

Each stage returns interpreter paths for the caller to verify, or raises ``Unavailable``
(this way out does not apply here) or a ``DownloadError``/``UvError`` (it was tried and
failed); either way the caller moves on and says why. A failed build is not a reason to
move on: its error names the missing packages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.progress import step
from loadtests.provision import cpython_build, source_download, uv_tool
from loadtests.provision.cpython_release import (
    MIRROR_VARIABLE,
    PINNED_SHA256,
    PINNED_VERSION,
    TARBALL_NAME,
    pinned_minor,
    sources_dir,
    stored_tarball,
    tarball_url,
)
from loadtests.provision.resolve_options import ENV_VARS, ResolveOptions, executable_name, uv_request

BUILD_MINUTES = "about 3 minutes each on 2 cores"


class Unavailable(Exception):
    """This way out does not apply on this machine; the message says why."""


def local_tarball(options: ResolveOptions, roles: tuple[str, ...]) -> dict[str, Path]:
    """Build from ``LAB_CPYTHON_SOURCE``, or from the pinned release placed in the source cache."""
    if options.source_tarball:  # named by the user: a missing or wrong file is an error, not a reason to go online
        return _build(Path(options.source_tarball).expanduser(), options.source_sha256, options, roles)
    if options.version != pinned_minor():
        raise Unavailable(f"LAB_CPYTHON_SOURCE is not set, and the lab pins no release of Python {options.version}")
    stored = stored_tarball()
    if not stored.is_file():
        raise Unavailable(f"LAB_CPYTHON_SOURCE is not set and {stored} does not exist")
    digest = cpython_build.sha256_of(stored)
    if digest != PINNED_SHA256:
        raise Unavailable(f"{stored} is not the pinned release (sha256 {digest}, expected {PINNED_SHA256}); "
                          "ignoring it")
    return _build(stored, PINNED_SHA256, options, roles)


def uv_python_install(options: ResolveOptions, roles: tuple[str, ...]) -> dict[str, Path]:
    if not options.allow_uv_install:
        raise Unavailable("LAB_UV_INSTALL=0")
    uv = uv_tool.ensure_uv()
    requests = [uv_request(options.version, role) for role in roles]
    with step(f"uv python install {' '.join(requests)}"):
        uv_tool.python_install(uv, requests)
    found = {role: uv_tool.python_find(uv, uv_request(options.version, role)) for role in roles}
    return {role: path for role, path in found.items() if path is not None}


def download_and_build(options: ResolveOptions, roles: tuple[str, ...],
                       expected_sha256: str = PINNED_SHA256) -> dict[str, Path]:
    if not options.allow_download:
        raise Unavailable("LAB_CPYTHON_DOWNLOAD=0")
    if options.version != pinned_minor():
        raise Unavailable(f"the lab pins no release of Python {options.version}")
    url = tarball_url(options.mirror)
    with step(f"download {url}"):
        tarball = source_download.download(url, stored_tarball(), expected_sha256)
    return _build(tarball, expected_sha256, options, roles)


def _build(tarball: Path, sha256: str | None, options: ResolveOptions, roles: tuple[str, ...]) -> dict[str, Path]:
    if not options.allow_build:
        raise Unavailable("building from source is turned off")
    names = " and ".join(executable_name(options.version, role) for role in roles)
    with step(f"build {names} from {tarball} ({BUILD_MINUTES})"):
        return cpython_build.build_pair(tarball, sha256, options.optimized, flavours=roles)


@dataclass(frozen=True)
class Stage:
    title: str  # as in "trying <title>"
    source: str  # what an interpreter from this stage is recorded as
    run: Callable[[ResolveOptions, tuple[str, ...]], dict[str, Path]]


STAGES = (
    Stage("the source tarball on disk", "source-build", local_tarball),
    Stage("uv python install", "uv-install", uv_python_install),
    Stage("the source tarball download", "source-build", download_and_build),
)


def remedies(options: ResolveOptions, missing: tuple[str, ...]) -> str:
    """What a user can do when every way out failed, the offline one first."""
    lines = ["Do one of:"]
    if options.version == pinned_minor():
        lines.append(f"  - place {TARBALL_NAME} (sha256 {PINNED_SHA256}) in {sources_dir()}/ and run the set-up "
                     f"again: the lab builds both interpreters from it with no network ({BUILD_MINUTES});")
    lines += [
        f"  - set LAB_CPYTHON_SOURCE=/path/to/Python-{PINNED_VERSION}.tar.xz (any CPython {options.version}.x source "
        "tarball; LAB_CPYTHON_SHA256 checks it);",
        f"  - point {' / '.join(ENV_VARS[r] for r in missing)} at existing interpreters;",
        f"  - where the network allows: `uv python install {options.version} {options.version}t`, or set "
        f"{MIRROR_VARIABLE} to a reachable mirror of python.org/ftp/python/.",
    ]
    return "\n".join(lines)
