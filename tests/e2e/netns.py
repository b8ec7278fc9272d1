"""Machines for the distributed tests: network namespaces joined by one bridge, as root.

Each "machine" is a network and UTS namespace of its own (``unshare --net --uts``), with
its own host name and address on a private LAN, ``10.77.0.0/24``:

- ``lab`` (10.77.0.1) holds the bridge; the lab runs there as the Locust master, and
  its servers listen there;
- ``worker-1`` (10.77.0.2), ``worker-2`` (10.77.0.3), ...: one veth pair each, into the bridge.

Nothing is bound in the machine's own network namespace, and nothing here reaches it:
the LAN has no route out. A namespace lives as long as a small holder process that
waits on a pipe: when the tests end (or die) the pipe closes, the holder exits, and
once the processes started inside are gone the kernel drops the namespace and its
links. No name is registered anywhere (no ``ip netns add``), so parallel test runs
cannot collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

SUBNET = "10.77.0"
# Runs once unshare has made the namespaces: its first line says so, then it waits for its pipe to close.
HOLD = [sys.executable, "-I", "-S", "-c", "import sys; print('ready', flush=True); sys.stdin.read()"]


def require_namespaces() -> None:
    """These tests need root and iproute2; without them they cannot stand for several machines."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nsenter") or not shutil.which("unshare"):
        pytest.skip("network namespaces need root, iproute2 and util-linux (unshare, nsenter)")


@dataclass
class Machine:
    name: str
    address: str
    holder: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.holder.pid

    def command(self, args: Sequence[str]) -> list[str]:
        """``args`` run inside this machine's network and host name (same files, same users)."""
        return ["nsenter", "-t", str(self.pid), "-n", "-u", "--", *args]

    def run(self, *args: str) -> None:
        subprocess.run(self.command(args), check=True, capture_output=True, timeout=30)


@dataclass
class Network:
    lab: Machine
    workers: list[Machine] = field(default_factory=list)


def _own_namespaces(pid: int) -> bool:
    return all(os.readlink(f"/proc/{pid}/ns/{kind}") != os.readlink(f"/proc/self/ns/{kind}") for kind in ("net", "uts"))


def _machine(name: str, address: str) -> Machine:
    holder = subprocess.Popen(["unshare", "--net", "--uts", "--", *HOLD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None
    # Until then the holder is still in this machine's namespaces, and `hostname` would rename the machine itself.
    if holder.stdout.readline().strip() != b"ready" or not _own_namespaces(holder.pid):
        holder.kill()
        raise RuntimeError(f"unshare did not give {name} namespaces of its own")
    machine = Machine(name, address, holder)
    machine.run("hostname", name)
    machine.run("ip", "link", "set", "lo", "up")
    return machine


@contextmanager
def network(workers: int) -> Iterator[Network]:
    require_namespaces()
    machines: list[Machine] = []
    try:
        lab = _machine("lab", f"{SUBNET}.1")
        machines.append(lab)
        lab.run("ip", "link", "add", "br0", "type", "bridge")
        lab.run("ip", "addr", "add", f"{lab.address}/24", "dev", "br0")
        lab.run("ip", "link", "set", "br0", "up")
        net = Network(lab)
        for number in range(1, workers + 1):
            worker = _machine(f"worker-{number}", f"{SUBNET}.{number + 1}")
            machines.append(worker)
            subprocess.run(["ip", "link", "add", "name", f"port{number}", "netns", str(lab.pid), "type", "veth",
                            "peer", "name", "eth0", "netns", str(worker.pid)], check=True, capture_output=True)
            lab.run("ip", "link", "set", f"port{number}", "master", "br0")
            lab.run("ip", "link", "set", f"port{number}", "up")
            worker.run("ip", "addr", "add", f"{worker.address}/24", "dev", "eth0")
            worker.run("ip", "link", "set", "eth0", "up")
            net.workers.append(worker)
        yield net
    finally:
        for machine in machines:
            if machine.holder.stdin:
                machine.holder.stdin.close()
            machine.holder.wait(timeout=10)
