"""Open-loop load: requests arrive at a set rate, whether or not earlier ones were answered.

Locust's users are closed-loop: a user sends its next request when the last one is
answered, so a slow server is sent less, and latency measured that way hides the
queue (coordinated omission). Locust has no arrival-rate mode of its own (its users
ask for one in locustio/locust #646, #1473 and #2359). This file adds one.

One ``OpenLoopDriver`` runs in each load process (the standalone Locust, or every
worker). It draws arrival times at ``--lab-rate`` requests per second, split evenly
between the ``--lab-load-processes`` processes, Poisson by default or evenly spaced
(``--lab-arrivals uniform``), and sends each request in its own greenlet, using the
scenario's own user classes and tasks (their weights kept; their ``wait_time`` has no
meaning here). A request is marked with its *intended* send time, so the lab measures
latency from the schedule as well as from the actual send. At most
``--lab-inflight-cap`` requests are in flight per process: an arrival beyond it is
dropped and counted, never silently delayed.

Every arrival is written to the recorder's *schedule log* the moment it is due, before
its request leaves: its intended send time and when the driver dispatched it (or null
when it was dropped). So an arrival whose request never completes is still counted, and
the lab judges the generator's own lag from the log, not from the requests that came back.

The lab starts it with Locust's user-class picker (``user_classes=OpenLoopDriver``)
and one user per load process.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

import gevent
from gevent.pool import Group
from lab_support import lab_option, option_value, record_arrival, set_intended
from locust import User, constant, task
from locust.exception import InterruptTaskSet, RescheduleTask, StopUser

log = logging.getLogger(__name__)
OPTIONS = {  # name -> (default, help); set per window by the lab, and passed on to every worker
    "lab_rate": ("0", "open loop: requests per second for the whole test"),
    "lab_arrivals": ("poisson", "open loop: poisson or uniform arrivals"),
    "lab_inflight_cap": ("256", "open loop: requests in flight per load process before arrivals are dropped"),
    "lab_load_processes": ("1", "open loop: load processes sharing the rate (the workers, or 1)"),
}
for _name, (_default, _text) in OPTIONS.items():
    lab_option(_name, _name.upper(), _default, _text)


def _option(environment: Any, name: str) -> str:
    return option_value(environment, name, name.upper(), OPTIONS[name][0])


class OpenLoopDriver(User):
    """Schedules arrivals and sends each one in its own greenlet (see the module docstring)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment
        self.rate = float(_option(options, "lab_rate")) / max(1, int(_option(options, "lab_load_processes")))
        self.poisson = _option(options, "lab_arrivals") != "uniform"
        self.cap = max(1, int(_option(options, "lab_inflight_cap")))
        self.inflight = Group()
        self.targets = self._targets()
        if self.rate <= 0 or not self.targets:
            log.error("open loop: nothing to send (rate %s, %d user classes with tasks)", self.rate,
                      len(self.targets))
            raise StopUser()

    def _targets(self) -> list[tuple[Any, list[Any], int]]:
        """(an instance of each scenario user class, its tasks, its weight)."""
        out = []
        for cls in self.environment.available_user_classes.values():
            if cls is type(self) or getattr(cls, "abstract", False):
                continue
            tasks = list(getattr(cls, "tasks", []))
            if any(isinstance(t, type) for t in tasks):
                log.error("open loop: %s uses a TaskSet, which has its own schedule; only @task methods of a user "
                          "class can be sent open-loop", cls.__name__)
                continue
            cls.host = self.environment.host
            if hasattr(cls, "concurrency"):
                cls.concurrency = self.cap  # FastHttpUser's connection pool must not queue requests itself
            out.append((cls(self.environment), tasks, max(1, int(getattr(cls, "weight", 1) or 1))))
        return out

    @task
    def arrive(self) -> None:
        """The schedule: runs until Locust stops this user."""
        rng = random.Random()
        next_at = time.time()
        while True:
            next_at += rng.expovariate(self.rate) if self.poisson else 1.0 / self.rate
            delay = next_at - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if len(self.inflight) >= self.cap:
                record_arrival(next_at, None)
                continue
            record_arrival(next_at, time.time())
            self.inflight.spawn(self._send, next_at, rng.random())

    def _send(self, intended: float, pick: float) -> None:
        set_intended(intended)
        instance, tasks = self._pick(pick)
        try:
            random.choice(tasks)(instance)
        except (StopUser, RescheduleTask, InterruptTaskSet):
            pass
        except Exception:  # a failing task must not stop the schedule; Locust has recorded the request
            log.exception("open loop: a task raised")

    def _pick(self, pick: float) -> tuple[Any, list[Any]]:
        """The user class a uniform ``pick`` in [0, 1) falls on, by the classes' weights."""
        point = pick * sum(weight for _, _, weight in self.targets)
        for instance, tasks, weight in self.targets:
            point -= weight
            if point < 0:
                return instance, tasks
        return self.targets[-1][0], self.targets[-1][1]

    def on_stop(self) -> None:
        self.inflight.kill(block=False)
