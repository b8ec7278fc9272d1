"""The one CPython release the lab builds when it has to: version, checksum, where its tarball lives.

The checksum is the one published with the release (the ``SHA256SUMS`` beside the
tarball the lab was developed with). A tarball in the source cache or from a mirror is
used only when it matches it.
"""

from __future__ import annotations

from pathlib import Path

from loadtests.core.paths import cache_dir

PINNED_VERSION = "3.14.7"
PINNED_SHA256 = "79f7cbbcd425be0243fb87204349c33c7903b28a751aa7b3f53642b529a1e003"
TARBALL_NAME = f"Python-{PINNED_VERSION}.tar.xz"
DEFAULT_MIRROR = "https://www.python.org/ftp/python/"
MIRROR_VARIABLE = "LAB_CPYTHON_MIRROR"


def pinned_minor() -> str:
    """``3.14``: the interpreter version the pinned release provides."""
    return ".".join(PINNED_VERSION.split(".")[:2])


def sources_dir() -> Path:
    """Where source tarballs are kept: placed there by hand or by a verified download."""
    return cache_dir() / "sources"


def stored_tarball() -> Path:
    return sources_dir() / TARBALL_NAME


def tarball_url(mirror: str | None = None) -> str:
    """``<mirror>/3.14.7/Python-3.14.7.tar.xz``, the layout of python.org's ``/ftp/python/``."""
    return f"{(mirror or DEFAULT_MIRROR).rstrip('/')}/{PINNED_VERSION}/{TARBALL_NAME}"
