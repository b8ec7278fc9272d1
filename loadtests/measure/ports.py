"""Ports for the lab's servers and Locust masters, chosen so that two labs on one machine do not collide.

A port is chosen by the lab and bound a moment later by the server, so another process
can take it in between. Two things make that rare, and one makes it harmless:

- the port is drawn at random *below* the kernel's ephemeral range
  (``/proc/sys/net/ipv4/ip_local_port_range``), where no outgoing connection takes
  one (Locust opens thousands), and it is free when drawn;
- a server that could not bind it is started again on another port
  (:func:`lost_the_port`, :data:`ATTEMPTS`);
- readiness accepts an answer only from the process the lab started or one of its
  children (``runtime.answers_from``), so a server of another lab on that port is never
  measured.
"""

from __future__ import annotations

import random
import re
import socket
from pathlib import Path

ATTEMPTS = 3  # starts of a server on a fresh port before its bind failure is reported
_FLOOR = 10_000  # below: well-known and commonly configured ports
_DRAWS = 64
# What uvicorn, granian and Locust print when the port is taken (errno 98 on Linux).
_ADDRESS_IN_USE = re.compile(r"address already in use|errno 98|eaddrinuse|socket bind failure", re.IGNORECASE)


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now, at random below the ephemeral range (the kernel's choice if none is)."""
    ceiling = _ephemeral_floor()
    if ceiling - _FLOOR > 1000:
        for port in random.sample(range(_FLOOR, ceiling), _DRAWS):
            if _free(host, port):
                return port
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def lost_the_port(log_tail: str) -> bool:
    """Whether a process that exited before it was ready did so because its port was taken."""
    return bool(_ADDRESS_IN_USE.search(log_tail))
