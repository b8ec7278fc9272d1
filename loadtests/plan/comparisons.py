"""Which configurations are measured side by side, and the order of their windows.

A *comparison* gathers the configurations of a plan that answer one question for one
scenario, server and load: the same requests, users, thread limit, CPU set and
server flags, differing only in interpreter, PYTHON_GIL and how the server spreads
its workers (one process or N). Its configurations (the *arms*) run on warm servers
side by side; only one carries load at a time.

Windows alternate in *blocks*: each block visits every arm once (A B, or for three arms
A B C), and every other block runs the other way (B A; C B A), so a slow drift of the
machine favours each arm in one block as much as it disfavours it in the next, and no arm
is always the first after a switch. A block is one pair: one window per arm, so the
fewest pairs a comparison measures (its pilot) cost as few windows as they can.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from loadtests.results.records import CellConfig


@dataclass(frozen=True)
class ComparisonPlan:
    """The arms of one comparison, in a stable order."""

    comparison_id: str
    arms: tuple[CellConfig, ...]

    @property
    def scenario(self) -> str:
        return self.arms[0].scenario

    def uneven_baselines(self, team_locustfile: bool = False) -> list[str]:
        """Why an N-process arm of this comparison cannot be loaded evenly, said before the run (empty: it can)."""
        out = []
        for arm in self.arms:
            if not connection_close(arm):
                continue
            if arm.users < arm.workers:
                out.append(f"{self.comparison_id}: {arm.label} has {arm.workers} processes but {arm.users} user(s): "
                           "at most that many processes can be busy, so its windows will be invalid")
            elif team_locustfile:
                out.append(f"{self.comparison_id}: {arm.label} gets a new connection per request only from the lab's "
                           "scenarios; your Locust file's requests go as you wrote them, and kept-alive connections "
                           "can all land on one process (such windows are marked invalid)")
        return out

    def block(self, index: int) -> list[CellConfig]:
        """The windows of block ``index``, in order: every arm once, the other way round in odd blocks."""
        return list(self.arms) if index % 2 == 0 else list(reversed(self.arms))


def connection_close(config: CellConfig) -> bool:
    """An arm of N worker processes gets a new connection per request, so the kernel spreads the requests over
    its processes as many clients or a balancer would. The other arms keep their connections: the accept and
    parse work of a connection per request would land on their event loop, 3.14t's serial section."""
    return config.parallelism == "processes" and config.workers > 1


def _key(config: CellConfig) -> tuple[object, ...]:
    """What every arm of one comparison shares (a team's service, but not its per-interpreter lock)."""
    service = config.service.id_part(with_lock=False) if config.service else None
    return (config.scenario, config.server, config.users, config.threads, config.cpus, config.http, config.loop,
            config.routes_dirs, service)


def _arm_order(config: CellConfig) -> tuple[object, ...]:
    """3.14 first, then 3.14t; one process before N; PYTHON_GIL unset before set."""
    return (config.parallelism == "processes", config.interpreter, config.python_gil or "", config.workers)


def comparison_id(arms: Sequence[CellConfig]) -> str:
    """``json/uvicorn/u4/t8`` plus what else sets the comparison apart (CPU set, server flags, drop-ins, service)."""
    first = replace(arms[0], service=None)
    rest = first.config_id.split(f"/u{first.users}", 1)[1]  # cpus, http, loop, routes: as the config id names them
    service = arms[0].service.id_part(with_lock=False) if arms[0].service else ""
    return f"{first.scenario}/{first.server}/u{first.users}/t{first.threads}{rest}{service}"


def comparisons(configs: Iterable[CellConfig]) -> list[ComparisonPlan]:
    """The plan's configurations grouped into comparisons, in the plan's order (scenario first)."""
    groups: dict[tuple[object, ...], list[CellConfig]] = {}
    for config in configs:
        groups.setdefault(_key(config), []).append(config)
    out = []
    for members in groups.values():
        arms = tuple(sorted(dict.fromkeys(members), key=_arm_order))
        out.append(ComparisonPlan(comparison_id(arms), arms))
    return sorted(out, key=lambda c: (c.scenario, c.arms[0].server, -c.arms[0].users, c.comparison_id))
