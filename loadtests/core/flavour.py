"""The two interpreter flavours the lab compares, and what each one allows.

Everything that differs between the standard and the free-threaded interpreter is
stated here once: the role name of the set-up (``gil``/``ft``), the label reports use
(``3.14``/``3.14t``), the app environment it runs in and whether ``PYTHON_GIL`` may be
set. Code asks a :class:`Flavour`; nothing parses a label to learn a property. What a
server does on each flavour is the server's own declaration (``core/servers/``).
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.core.errors import ConfigError

#: The CPython minor version the lab compares (both flavours are this version).
PYTHON_MINOR = "3.14"


@dataclass(frozen=True)
class Flavour:
    """One interpreter flavour: standard (GIL) or free-threaded."""

    role: str  # set-up role: "gil" or "ft" (LAB_PYTHON_GIL / LAB_PYTHON_FT, --interpreter)
    label: str  # "3.14" or "3.14t": what presets, run.json and reports say
    env_name: str  # the app environment: "app-gil" or "app-ft"
    free_threaded: bool
    name: str  # for sentences: "standard (GIL)" or "free-threaded"

    @property
    def python_gil_values(self) -> tuple[str | None, ...]:
        """PYTHON_GIL settings a server of this flavour may get.

        On a GIL build ``PYTHON_GIL=0`` is a fatal start-up error and ``1`` is its
        default anyway, so only "unset" is allowed there.
        """
        return (None, "0", "1") if self.free_threaded else (None,)


GIL = Flavour("gil", PYTHON_MINOR, "app-gil", False, "standard (GIL)")
FT = Flavour("ft", PYTHON_MINOR + "t", "app-ft", True, "free-threaded")
FLAVOURS = (GIL, FT)
LABELS = tuple(f.label for f in FLAVOURS)
ROLES = tuple(f.role for f in FLAVOURS)


def by_label(label: str) -> Flavour:
    """``"3.14t"`` -> :data:`FT`; a clear error for anything else."""
    for flavour in FLAVOURS:
        if flavour.label == label:
            return flavour
    raise ConfigError(f"unknown interpreter {label!r}; choose from {', '.join(LABELS)}")


def by_role(role: str) -> Flavour:
    """``"ft"`` -> :data:`FT`; a clear error for anything else."""
    for flavour in FLAVOURS:
        if flavour.role == role:
            return flavour
    raise ConfigError(f"unknown interpreter role {role!r}; choose from {', '.join(ROLES)}")

