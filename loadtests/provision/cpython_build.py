"""Build the two interpreters the lab compares from one CPython source tarball.

Both builds use the same tarball, compiler and configure flags; the free-threaded one
adds only ``--disable-gil``. A build goes into a staging directory and is renamed into
the cache only once ``make install`` succeeded, so a cache entry is always complete.
The cache key is the tarball's sha256 plus a hash of the flags, so a new tarball or
new flags never reuse an old build. A file lock makes concurrent set-ups safe: the
second one waits, then finds the finished build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadtests.core.errors import BuildError
from loadtests.core.paths import cache_dir
from loadtests.core.progress import format_seconds, step
from loadtests.provision import env_lock
from loadtests.provision.cpython_release import PINNED_SHA256, PINNED_VERSION
from loadtests.provision.optional_modules import (
    MODULE_PACKAGES,
    REQUIRED_MODULES,
    header_search_dirs,
    headers_present,
)
from loadtests.provision.process_env import installer_env

FLAVOURS = ("gil", "ft")

# Headers named in compiler errors, and the package that provides each (for a failed build's hint).
HEADER_PACKAGES = {
    "openssl/": "libssl-dev",
    "ffi.h": "libffi-dev",
    "zlib.h": "zlib1g-dev",
    "bzlib.h": "libbz2-dev",
    "lzma.h": "liblzma-dev",
    "sqlite3.h": "libsqlite3-dev",
    "zstd.h": "libzstd-dev",
}
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class BuildSpec:
    """What determines a build: the source, the flavour and the flags."""

    tarball: Path
    tarball_sha256: str
    flavour: str  # "gil" or "ft"
    optimized: bool

    @property
    def configure_flags(self) -> list[str]:
        flags: list[str] = []
        if self.optimized:
            flags += ["--enable-optimizations", "--with-lto"]
        if self.flavour == "ft":
            flags.append("--disable-gil")
        return flags

    @property
    def flags_key(self) -> str:
        return hashlib.sha256(" ".join(self.configure_flags).encode()).hexdigest()[:12]

    def install_dir(self, root: Path | None = None) -> Path:
        base = (root or cache_dir()) / "cpython" / self.tarball_sha256[:16]
        return base / f"{self.flavour}-{self.flags_key}"


@dataclass(frozen=True)
class BuildRecord:
    """Metadata stored beside every finished build (``gil-lab-build.json``)."""

    flavour: str
    tarball: str
    tarball_sha256: str
    configure_flags: list[str]
    executable: str
    built_at: float
    build_seconds: float
    missing_optional_modules: list[str]
    # Headers of optional modules the compiler could see when this build ran.
    optional_headers_found: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_tarball(tarball: Path, expected_sha256: str | None) -> str:
    """Check the tarball exists, matches the expected hash and is a readable tar.

    Without an expected hash, a tarball of the release the lab pins (by its file name or
    its top directory, ``Python-3.14.7``) must match the pinned hash: a file that claims
    to be that release and is not is refused, not built. Returns its sha256, which is
    always recorded.
    """
    if not tarball.is_file():
        raise BuildError(
            f"CPython source tarball not found: {tarball}\n"
            "Set LAB_CPYTHON_SOURCE to the path of a Python-3.14.x.tar.xz file."
        )
    actual = sha256_of(tarball)
    if expected_sha256 and actual.lower() != expected_sha256.strip().lower():
        raise BuildError(
            f"sha256 mismatch for {tarball}:\n  expected {expected_sha256.strip().lower()}\n  actual   {actual}\n"
            "The file is corrupt or not the release you meant. Download it again, or fix LAB_CPYTHON_SHA256."
        )
    try:
        with tarfile.open(tarball) as tf:
            first = tf.next()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BuildError(
            f"{tarball} is not a readable tar archive ({exc}).\n"
            "The download is probably truncated; fetch the source tarball again."
        ) from exc
    if first is None:
        raise BuildError(f"{tarball} is an empty archive; fetch the source tarball again.")
    if not expected_sha256 and PINNED_VERSION in release_versions(tarball.name, first.name) and actual != PINNED_SHA256:
        raise BuildError(
            f"{tarball} says it is CPython {PINNED_VERSION}, whose sha256 the lab pins, but it does not match:\n"
            f"  expected {PINNED_SHA256}\n  actual   {actual}\n"
            "The file is corrupt or altered: fetch the release again. To build another tree on purpose, "
            "name it as what it is and give its checksum in LAB_CPYTHON_SHA256."
        )
    return actual


def release_versions(*names: str) -> set[str]:
    """The CPython versions ``Python-X.Y.Z`` names in a file name or an archive's top directory."""
    return {m.group(1) for name in names for m in [_RELEASE_NAME.match(name)] if m}


_RELEASE_NAME = re.compile(r"Python-(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)(?:[./]|$)")


def executable_in(prefix: Path, flavour: str) -> Path | None:
    """The ``python3.X`` / ``python3.Xt`` binary inside an install prefix, if any."""
    suffix = "t" if flavour == "ft" else ""
    candidates = sorted((prefix / "bin").glob(f"python3.[0-9]*{suffix}"))
    for candidate in candidates:
        if re.fullmatch(rf"python3\.\d+{suffix}", candidate.name):
            return candidate
    return None


def cached_build(spec: BuildSpec, root: Path | None = None) -> Path | None:
    """The interpreter of a finished cached build for ``spec``, or None."""
    prefix = spec.install_dir(root)
    if not (prefix / "gil-lab-build.json").is_file():
        return None
    return executable_in(prefix, spec.flavour)


@contextmanager
def build_lock(root: Path | None = None) -> Iterator[None]:
    """An exclusive lock over the build cache, so two set-ups never build at once."""
    with env_lock.locked((root or cache_dir()) / "cpython" / "builds", shared=False,
                         waiting="another set-up is building CPython; waiting for it to finish"):
        yield


def missing_modules(log_text: str) -> list[str]:
    """Optional modules CPython's build reported it could not build."""
    found: list[str] = []
    for match in re.finditer(
        r"(?:necessary bits to build these optional modules were not found|"
        r"Following modules built successfully but were removed|"
        r"Failed to build these modules):\s*\n((?:[ \t]*\S.*\n?)+?)(?:\n|To find|$)",
        log_text,
    ):
        found += match.group(1).split()
    for match in re.finditer(r"checking for stdlib extension module (\S+)\.\.\. (missing|disabled)", log_text):
        found.append(match.group(1))
    return sorted(set(found))


def packages_for(log_text: str) -> list[str]:
    """Debian packages that would fix the failures seen in a build log."""
    packages = {MODULE_PACKAGES[m] for m in missing_modules(log_text) if m in MODULE_PACKAGES}
    for header, package in HEADER_PACKAGES.items():
        if re.search(rf"{re.escape(header)}\S*: No such file or directory", log_text):
            packages.add(package)
    return sorted(packages)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _run_logged(args: list[str], cwd: Path, log: Path, what: str, env: dict[str, str] | None = None) -> None:
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(args, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        log_text = log.read_text(errors="replace")
        packages = packages_for(log_text)
        hint = (
            f"\nMissing build packages: {' '.join(packages)}\n  apt-get install {' '.join(packages)}"
            if packages
            else ""
        )
        raise BuildError(
            f"CPython {what} failed (exit {proc.returncode}). Last lines of {log}:\n"
            f"{_tail(log)}{hint}\nThe full log is kept at {log}."
        )


def _check_toolchain() -> None:
    missing = [tool for tool in ("make",) if shutil.which(tool) is None]
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        missing.append("cc (gcc)")
    if missing:
        raise BuildError(
            f"Cannot build CPython: {', '.join(missing)} not found.\n"
            "Install a C toolchain, e.g. `apt-get install build-essential`, plus the build packages listed in docs/setup.md."
        )


def build(spec: BuildSpec, root: Path | None = None, jobs: int | None = None, replace: bool = False) -> Path:
    """Build and install one flavour into the cache and return its interpreter.

    Call under ``build_lock``. Reuses a finished build for the same key, unless
    ``replace``: then the new build takes the old one's place once it succeeded.
    """
    existing = cached_build(spec, root)
    if existing and not replace:
        return existing
    _check_toolchain()
    prefix = spec.install_dir(root)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    logs = prefix.parent / "logs"
    logs.mkdir(exist_ok=True)
    log = logs / f"{spec.flavour}-{spec.flags_key}.log"
    log.write_text(f"gil-lab build of {spec.tarball} ({spec.tarball_sha256}) flavour={spec.flavour}\n")
    jobs = jobs or os.cpu_count() or 1
    started = time.monotonic()
    headers_found = headers_present(header_search_dirs())
    label = "free-threaded (--disable-gil)" if spec.flavour == "ft" else "standard (GIL)"
    staging_root = Path(tempfile.mkdtemp(prefix=f".build-{spec.flavour}-", dir=prefix.parent))
    try:
        with step(f"extract {spec.tarball.name} for the {label} build"), tarfile.open(spec.tarball) as tf:
            tf.extractall(staging_root / "src", filter="data")
        sources = [p for p in (staging_root / "src").iterdir() if (p / "configure").is_file()]
        if len(sources) != 1:
            raise BuildError(f"{spec.tarball} does not contain a CPython source tree (no ./configure found).")
        source = sources[0]
        env = installer_env()
        with step(f"configure {label}: {' '.join(spec.configure_flags) or '(default flags)'}"):
            _run_logged(["./configure", f"--prefix={prefix}", *spec.configure_flags], source, log, "configure", env)
        with step(f"compile {label} with make -j{jobs} (about 3-4 minutes on 2 cores)"):
            _run_logged(["make", f"-j{jobs}"], source, log, "compile", env)
        destdir = staging_root / "install"
        with step(f"install {label} into the cache"):
            _run_logged(["make", "install", f"DESTDIR={destdir}"], source, log, "install", env)
        staged_prefix = destdir / prefix.relative_to(prefix.anchor)
        log_text = log.read_text(errors="replace")
        missing = missing_modules(log_text)
        fatal = [m for m in missing if m in REQUIRED_MODULES]
        if fatal:
            packages = sorted({MODULE_PACKAGES[m] for m in fatal})
            raise BuildError(
                f"CPython built without {', '.join(fatal)}, which the lab needs.\n"
                f"Install: apt-get install {' '.join(packages)}\nthen run the set-up again. Build log: {log}"
            )
        executable = executable_in(staged_prefix, spec.flavour)
        if executable is None:
            raise BuildError(f"The build finished but no interpreter is in {staged_prefix / 'bin'}. Build log: {log}")
        record = BuildRecord(
            flavour=spec.flavour,
            tarball=str(spec.tarball),
            tarball_sha256=spec.tarball_sha256,
            configure_flags=spec.configure_flags,
            executable=str(prefix / "bin" / executable.name),
            built_at=time.time(),
            build_seconds=round(time.monotonic() - started, 1),
            missing_optional_modules=missing,
            optional_headers_found=headers_found,
        )
        (staged_prefix / "gil-lab-build.json").write_text(json.dumps(asdict(record), indent=2))
        shutil.copy2(log, staged_prefix / "gil-lab-build.log")
        if prefix.exists():  # the build being replaced, or a half-finished attempt without a record
            # Moved aside, not deleted first: the interpreter path is never missing for long.
            os.rename(prefix, staging_root / "replaced")
        os.rename(staged_prefix, prefix)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    if missing:
        packages = sorted({MODULE_PACKAGES[m] for m in missing if m in MODULE_PACKAGES})
        print(f"    note: optional modules not built: {' '.join(missing)}"
              + (f" (apt-get install {' '.join(packages)})" if packages else ""), flush=True)
    print(f"    built {label} in {format_seconds(time.monotonic() - started)}: {prefix}", flush=True)
    return prefix / "bin" / executable.name


def read_build_record(executable: Path) -> dict[str, object] | None:
    """The build record of a cached interpreter, or None for interpreters not built by the lab."""
    record = executable.resolve().parent.parent / "gil-lab-build.json"
    if record.is_file():
        return json.loads(record.read_text())
    return None


def build_pair(tarball: Path, expected_sha256: str | None, optimized: bool, root: Path | None = None,
               flavours: tuple[str, ...] = FLAVOURS) -> dict[str, Path]:
    """Build (or reuse) the flavours from one tarball; returns ``{"gil": path, "ft": path}``."""
    digest = verify_tarball(tarball, expected_sha256)
    result: dict[str, Path] = {}
    with build_lock(root):
        for flavour in flavours:
            result[flavour] = build(BuildSpec(tarball.resolve(), digest, flavour, optimized), root)
    return result
