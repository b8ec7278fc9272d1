"""The Locust master of a lab session when workers join from elsewhere (``--expect-workers``).

Locust's master port has no authentication of its own: whoever reaches it can join as a
worker, be given users and send samples, and whoever answers on it can ship code to a
worker started with ``-f -``. The lab therefore

- binds the master to loopback unless told otherwise, and takes any other address only
  with ``--expose-master`` (printing what that exposes, :func:`exposure`);
- picks the master's port like its servers' (a free one) unless the user names it, so two
  labs on one machine never share it;
- runs its own handshake over that port (``handshake.py``, ``scenarios/lab_workers.py``):
  the master proves it knows the run's shared token (``LAB_LOCUST_TOKEN``, generated per
  run when unset) before a worker uses anything it sends, and a worker proves it too,
  once per challenge, and must run the master's Locust version, lab version and files.

The same address is where the lab's own servers listen when remote workers load them
(they must reach them), so a wildcard bind (``0.0.0.0``) works only with ``--app-url``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass

from loadtests.core.errors import ConfigError
from loadtests.measure.ports import free_port
from loadtests.measure.servers import LOOPBACK

TOKEN_ENV = "LAB_LOCUST_TOKEN"
LAB_VERSION_ENV = "LAB_VERSION"
DEFAULT_MASTER_PORT = 5557  # Locust's own default: what `gil-lab worker --master HOST` joins
DEFAULT_JOIN_TIMEOUT_S = 60.0
WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class MasterSettings:
    """Where a session's master listens and whom it waits for (beyond its own local workers)."""

    bind: str = LOOPBACK
    port: int | None = None  # None: any free loopback port (local workers only)
    remote_workers: int = 0  # workers that join from elsewhere (`gil-lab worker`)
    join_timeout_s: float = DEFAULT_JOIN_TIMEOUT_S
    token: str = ""  # the shared token of the lab's handshake: in the lab's memory only, never in a file or a child

    @property
    def connect_host(self) -> str:
        """Where a worker on this machine reaches the master."""
        return LOOPBACK if self.bind in WILDCARDS else self.bind

    @property
    def address(self) -> str:
        return f"{self.bind}:{self.port}"


def run_token() -> tuple[str, bool]:
    """The run's token: ``$LAB_LOCUST_TOKEN``, or a new random one (second value: it was generated)."""
    given = os.environ.get(TOKEN_ENV, "").strip()
    return (given, False) if given else (secrets.token_hex(16), True)


def check_master(bind: str | None, port: int | None, expect_workers: int, expose: bool,
                 lab_starts_servers: bool) -> MasterSettings | None:
    """The master the flags ask for (None: no remote workers), or a ConfigError naming the flag to fix."""
    if not expect_workers:
        if bind or expose:
            raise ConfigError("--locust-master-bind and --expose-master are for workers that join from elsewhere: "
                              "add --expect-workers N (local workers alone need --locust-workers N only)")
        return None
    address = bind or LOOPBACK
    if not is_loopback(address) and not expose:
        raise ConfigError(f"--locust-master-bind {address} would expose {exposure(address, port, lab_starts_servers)}; "
                          "add --expose-master to accept that, on a network you trust")
    if address in WILDCARDS and lab_starts_servers:
        raise ConfigError(f"--locust-master-bind {address or '0.0.0.0'} names no single address the workers can reach "
                          "the lab's servers at: give an address of this machine that the workers reach, or load "
                          "apps the lab does not start with --app-url")
    # a free port, like the servers', unless named: another lab on this machine may be using 5557
    return MasterSettings(bind=address, port=port or free_port(address or LOOPBACK), remote_workers=expect_workers)


def exposure(bind: str, port: int | None, lab_starts_servers: bool) -> str:
    """What a master bound to ``bind`` makes reachable, in words."""
    what = (f"Locust's master port {bind}:{port or '<a free port>'}, which has no authentication of its own "
            "(the lab's token keeps workers without it out of the measurement, but anyone who reaches the port can "
            "connect and fetch the scenario files, and read the plaintext traffic on the way)")
    if lab_starts_servers:
        what += (f", and the lab's servers on {bind}: the whole app (every route, /docs, and /lab/runtime with its "
                 "pid and package versions)")
    return what
