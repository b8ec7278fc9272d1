"""Facts about the machine a run happens on: usable cores, CPU model, memory, lab commit.

Standard library only, so the bootstrap and the provisioning can use it too.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.paths import CHECKOUT


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity), not the machine's total."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def usable_cpus() -> list[int]:
    """The ids of the CPUs this process may run on, in order."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(usable_cores()))  # pragma: no cover - not Linux


def cpuinfo_field(name: str) -> str | None:
    """The first CPU's ``name`` line of /proc/cpuinfo (``model name``, ``microcode``, ``flags``), or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return cpuinfo_field("model name") or platform.processor() or platform.machine()


def microcode() -> str | None:
    """The microcode revision (``0xa0011d5``), where the kernel shows it."""
    return cpuinfo_field("microcode")


def virtualized() -> bool | None:
    """Whether the CPU reports the ``hypervisor`` flag; None when /proc/cpuinfo has no flags."""
    flags = cpuinfo_field("flags")
    return None if flags is None else "hypervisor" in flags.split()


def memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def git_state(root: Path | None = CHECKOUT) -> tuple[str | None, bool]:
    """The lab's commit and whether tracked files differ from it; (None, False) outside a checkout.

    An installed lab has no commit of its own: asking git from site-packages would
    report the repository of whatever project the environment happens to live in.
    """
    if root is None:
        return None, False

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return sha, bool(status)


def hostname() -> str:
    return socket.gethostname()


def load_average() -> float | None:
    """The 1-minute load average: above the core count, other work shares the CPUs."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):  # pragma: no cover - not Unix
        return None


@dataclass(frozen=True)
class CpuTimes:
    """Cumulative CPU time of a set of CPUs since boot, seconds (from /proc/stat)."""

    busy: float  # user + nice + system: work of processes (interrupt time left out: our own loopback traffic)
    steal: float  # time the hypervisor ran other guests on these CPUs
    total: float  # every state, idle included


def cpu_times(cpus: Sequence[int] | None = None) -> CpuTimes | None:
    """Cumulative times of ``cpus`` (all CPUs when None), or None without /proc/stat."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    wanted = None if cpus is None else {f"cpu{c}" for c in cpus}
    busy = steal = total = 0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or (wanted is not None and name not in wanted):
            continue
        ticks = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
        busy += ticks[0] + ticks[1] + ticks[2]
        steal += ticks[7]
        total += sum(ticks)
    hz = os.sysconf("SC_CLK_TCK")
    return CpuTimes(busy / hz, steal / hz, total / hz) if total else None


def cpu_mhz(cpus: Sequence[int] | None = None) -> float | None:
    """The mean clock of ``cpus``: cpufreq's current frequency where the kernel has it, else /proc/cpuinfo's."""
    ids = list(cpus) if cpus is not None else usable_cpus()
    freqs = []
    for cpu in ids:
        try:
            freqs.append(int(Path(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq").read_text()) / 1000)
        except (OSError, ValueError):
            break
    if len(freqs) == len(ids) and freqs:
        return round(sum(freqs) / len(freqs), 1)
    try:
        info = [float(line.split(":", 1)[1]) for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("cpu MHz")]
    except (OSError, ValueError):
        return None
    return round(sum(info) / len(info), 1) if info else None


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent not idle since boot (all CPUs, from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")
