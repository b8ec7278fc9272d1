"""Where a run ran: the machine and each interpreter with its packages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class Machine(Record):
    """The machine the run measured: its cores are the ceiling of every speedup."""

    cpu_model: str = doc("CPU model name from /proc/cpuinfo.")
    cpu_count: int | None = doc("CPUs of the machine.")
    affinity: tuple[int, ...] | None = doc("CPU ids the lab may use.")
    usable_cores: int = doc("len(affinity): the ceiling of any speedup measured here.")
    os: str = doc("platform.platform().")
    hostname: str = doc("Host name.")
    memory_gb: float | None = doc("Physical memory, GiB.")
    git_sha: str | None = doc("The lab's commit, or null outside a checkout.")
    git_dirty: bool = doc("Whether tracked files of the lab differed from that commit.")
    microcode: str | None = doc("The CPU's microcode revision from /proc/cpuinfo (null where it is not shown).",
                                default=None)
    virtualized: bool | None = doc("Whether the CPU says it runs under a hypervisor (its `hypervisor` flag): then "
                                   "other guests share the host, and each window's `steal` says how much.",
                                   default=None)

    def __post_init__(self) -> None:
        if self.usable_cores < 1:
            raise ValueError(f"usable_cores must be >= 1, got {self.usable_cores}")


@dataclass(frozen=True)
class BuildInfo(Record):
    """How the lab built an interpreter from source."""

    tarball_sha256: str | None = doc("sha256 of the CPython source tarball the lab built from.")
    configure_flags: tuple[str, ...] = doc("./configure flags beyond --prefix.")


@dataclass(frozen=True)
class InterpreterInfo(Record):
    """One interpreter as the run used it, with its app environment's packages."""

    path: str | None = doc("Interpreter path (for an external app: what its /lab/runtime reports).")
    version: str | None = doc("Python version, e.g. 3.14.7.")
    free_threaded: bool = doc("Py_GIL_DISABLED build flag.")
    configure_args: str | None = doc("sysconfig CONFIG_ARGS, or null for an external app.")
    compiler: str | None = doc("platform.python_compiler(), or null for an external app.")
    source: str = doc("How the lab found it: explicit, cache, path, pyenv, uv-find, uv-install, source-build, "
                      "or external (--app-url).")
    build: BuildInfo | None = doc("The lab's build record, or null for interpreters it did not build.")
    packages: Mapping[str, str | None] = doc("Distribution -> version in the app environment.")
    unsupported: Mapping[str, str] = doc("Packages left out of this environment, with the reason.")
    url: str | None = doc("The app's URL when it is external (--app-url), else null.", default=None)
