"""Optional stdlib modules the lab wants in a CPython build, their headers and Debian packages.

CPython builds without a module whose headers are missing and only says so in its
log. The lab records what a build lacked (``missing_optional_modules`` in
``gil-lab-build.json``) and which headers it could see (``optional_headers_found``),
so a later set-up can tell whether installing the headers since would make a rebuild
worth it: it is, once, for a module whose header is present now but was not then.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

# Each module the lab wants and the Debian package with its headers.
MODULE_PACKAGES = {
    "_ssl": "libssl-dev",
    "_hashlib": "libssl-dev",
    "_ctypes": "libffi-dev",
    "zlib": "zlib1g-dev",
    "_bz2": "libbz2-dev",
    "_lzma": "liblzma-dev",
    "_sqlite3": "libsqlite3-dev",
    "readline": "libreadline-dev",
    "_uuid": "uuid-dev",
    "_curses": "libncurses-dev",
    "_zstd": "libzstd-dev",
}
# Without these the lab cannot install packages or store results: a build lacking one fails.
REQUIRED_MODULES = ("_ssl", "_hashlib", "_ctypes", "zlib", "_sqlite3")
# The header CPython's configure looks for, per module (relative to an include directory).
MODULE_HEADERS = {
    "_ssl": "openssl/ssl.h",
    "_hashlib": "openssl/evp.h",
    "_ctypes": "ffi.h",
    "zlib": "zlib.h",
    "_bz2": "bzlib.h",
    "_lzma": "lzma.h",
    "_sqlite3": "sqlite3.h",
    "readline": "readline/readline.h",
    "_uuid": "uuid/uuid.h",
    "_curses": "ncurses.h",
    "_zstd": "zstd.h",
}
FALLBACK_INCLUDE_DIRS = ("/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu",
                         "/usr/include")


def header_search_dirs() -> list[Path]:
    """The C compiler's ``#include <...>`` search path (the usual system directories without one)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler:
        try:
            proc = subprocess.run([compiler, "-xc", "-E", "-v", "-"], input="", capture_output=True, text=True,
                                  timeout=30)
            block = re.search(r"#include <\.\.\.> search starts here:\n(.*?)End of search list", proc.stderr, re.S)
            if block:
                return [Path(line.strip()) for line in block.group(1).splitlines() if line.strip()]
        except (OSError, subprocess.TimeoutExpired):
            pass
    return [Path(d) for d in FALLBACK_INCLUDE_DIRS]


def headers_present(include_dirs: Iterable[Path | str]) -> list[str]:
    """The headers of ``MODULE_HEADERS`` found in one of ``include_dirs``."""
    dirs = [Path(d) for d in include_dirs]
    return sorted({h for h in MODULE_HEADERS.values() if any((d / h).is_file() for d in dirs)})


def lacking(record: Mapping[str, object] | None) -> list[str]:
    """The wanted modules a lab build was made without (none for interpreters the lab did not build)."""
    missing = (record or {}).get("missing_optional_modules") or []
    return sorted(set(missing) & set(MODULE_PACKAGES)) if isinstance(missing, list) else []


def rebuild_would_add(record: Mapping[str, object] | None, present_now: Iterable[str]) -> list[str]:
    """Lacking modules whose header is present now and was not when the build ran."""
    recorded = (record or {}).get("optional_headers_found")
    seen_then = set(recorded) if isinstance(recorded, list) else set()  # older builds recorded nothing
    now = set(present_now)
    return [m for m in lacking(record) if MODULE_HEADERS[m] in now and MODULE_HEADERS[m] not in seen_then]


def apt_install_line(modules: Iterable[str]) -> str:
    """``apt-get install libzstd-dev ...``: the packages that provide these modules' headers."""
    return "apt-get install " + " ".join(sorted({MODULE_PACKAGES[m] for m in modules if m in MODULE_PACKAGES}))
