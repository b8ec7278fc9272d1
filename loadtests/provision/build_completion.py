"""A cached build that lacks a wanted module is rebuilt once its headers are installed.

An interpreter built before ``libzstd-dev`` was installed has no ``_zstd`` and would
keep lacking it: the cache key (tarball and flags) does not change when headers
appear. Set-up compares the build record with the headers the compiler sees now and
rebuilds, in place, when that would add a module. When the headers are still absent
it says which package to install; ``gil-lab doctor`` reports the same.
"""

from __future__ import annotations

from pathlib import Path

from loadtests.core.errors import BuildError
from loadtests.core.paths import setup_command
from loadtests.core.progress import note, step
from loadtests.provision import cpython_build, cpython_release
from loadtests.provision.optional_modules import (
    MODULE_HEADERS,
    apt_install_line,
    header_search_dirs,
    headers_present,
    lacking,
    rebuild_would_add,
)
from loadtests.provision.resolve_options import ResolveOptions


def present_headers(header_dirs: tuple[str, ...] | None = None) -> list[str]:
    return headers_present(header_dirs if header_dirs is not None else header_search_dirs())


def complete(executable: Path, record: dict[str, object] | None, options: ResolveOptions) -> Path | None:
    """The rebuilt interpreter when a rebuild adds a module, else None (after saying what is missing)."""
    missing = lacking(record)
    if not missing or record is None:
        return None
    present = present_headers(options.header_dirs)
    addable = rebuild_would_add(record, present)
    if not addable:
        absent = [m for m in missing if MODULE_HEADERS[m] not in present]
        if absent:
            note(f"note: {executable} was built without {', '.join(absent)}; "
                 f"`{apt_install_line(absent)}` (or `make system-deps` as root), then `{setup_command()}` rebuilds it")
        return None
    tarball = source_of(record, options)
    if tarball is None:
        note(f"note: {executable} lacks {', '.join(addable)}; the headers are installed now, but the tarball it was "
             f"built from (sha256 {record.get('tarball_sha256')}) is not at hand. Place it in "
             f"{cpython_release.sources_dir()}/ or name it with LAB_CPYTHON_SOURCE to rebuild.")
        return None
    flags = record.get("configure_flags")
    spec = cpython_build.BuildSpec(tarball, str(record["tarball_sha256"]), str(record["flavour"]),
                                   optimized=isinstance(flags, list) and "--enable-optimizations" in flags)
    if spec.install_dir().resolve() != executable.resolve().parent.parent:
        return None  # not where this spec builds: leave it alone
    headers = ", ".join(MODULE_HEADERS[m] for m in addable)
    try:
        with step(f"rebuild {executable} for {', '.join(addable)}: {headers} installed since it was built"), \
                cpython_build.build_lock():
            current = cpython_build.read_build_record(executable)
            if not rebuild_would_add(current, present):
                return executable  # another set-up rebuilt it while this one waited for the lock
            return cpython_build.build(spec, replace=True)
    except BuildError as exc:  # the old build is still in place: keep using it
        note(f"note: the rebuild failed, keeping the existing build: {exc}")
        return None


def source_of(record: dict[str, object], options: ResolveOptions) -> Path | None:
    """A tarball on disk with the sha256 the build was made from."""
    wanted = str(record.get("tarball_sha256", ""))
    candidates = [options.source_tarball, cpython_release.stored_tarball(), record.get("tarball")]
    for candidate in candidates:
        if candidate and Path(str(candidate)).is_file() and cpython_build.sha256_of(Path(str(candidate))) == wanted:
            return Path(str(candidate)).resolve()
    return None
