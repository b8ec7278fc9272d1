"""What interpreter resolution depends on: the version, explicit paths, and which ways out it may take."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from loadtests.core.errors import ConfigError

DEFAULT_VERSION = "3.14"
ROLES = ("gil", "ft")
ROLE_NAMES = {"gil": "standard (GIL)", "ft": "free-threaded"}
ENV_VARS = {"gil": "LAB_PYTHON_GIL", "ft": "LAB_PYTHON_FT"}
#: Names the lab read before every variable took the LAB_ prefix. Setting one is an error, because
#: ignoring it would send a set-up meant to build from a local tarball to the network instead.
RENAMED = {"CPYTHON_SOURCE": "LAB_CPYTHON_SOURCE", "CPYTHON_SHA256": "LAB_CPYTHON_SHA256"}


def executable_name(version: str, role: str) -> str:
    return f"python{version}" + ("t" if role == "ft" else "")


def uv_request(version: str, role: str) -> str:
    """How uv names the interpreter: ``3.14`` or ``3.14t``."""
    return version + ("t" if role == "ft" else "")


def _enabled(variable: str) -> bool:
    """The lab's on/off switches: anything but ``0`` leaves the step on."""
    return os.environ.get(variable, "1") != "0"


@dataclass(frozen=True)
class ResolveOptions:
    """Everything resolution depends on; built from flags and environment variables."""

    version: str = DEFAULT_VERSION
    explicit: dict[str, str] = field(default_factory=dict)
    source_tarball: str | None = None
    source_sha256: str | None = None
    optimized: bool = False
    allow_uv_install: bool = True
    allow_download: bool = True
    mirror: str | None = None  # None: LAB_CPYTHON_MIRROR, then python.org
    allow_build: bool = True
    search_machine: bool = True
    # Where to look for the optional modules' headers; None asks the C compiler.
    header_dirs: tuple[str, ...] | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> ResolveOptions:
        for old, new in RENAMED.items():
            if os.environ.get(old):
                raise ConfigError(f"{old} is now called {new}: set {new}={os.environ[old]} instead (and unset {old}).")
        explicit = {role: os.environ[var] for role, var in ENV_VARS.items() if os.environ.get(var)}
        values: dict[str, object] = dict(
            version=os.environ.get("LAB_PYTHON_VERSION", DEFAULT_VERSION),
            explicit=explicit,
            source_tarball=os.environ.get("LAB_CPYTHON_SOURCE") or None,
            source_sha256=os.environ.get("LAB_CPYTHON_SHA256") or None,
            optimized=os.environ.get("LAB_CPYTHON_OPTIMIZED", "0") == "1",
            allow_uv_install=_enabled("LAB_UV_INSTALL"),
            allow_download=_enabled("LAB_CPYTHON_DOWNLOAD"),
            mirror=os.environ.get("LAB_CPYTHON_MIRROR") or None,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        if overrides.get("explicit"):
            values["explicit"] = {**explicit, **overrides["explicit"]}  # type: ignore[dict-item]
        return cls(**values)  # type: ignore[arg-type]
