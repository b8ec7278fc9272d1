"""Whether a plan measures what an ``--expect`` expression names, checked before anything runs.

An expectation names a scenario, maybe a server, a users level and a thread limit, and
a comparison (3.14t against 3.14, against 3.14 with N processes, or PYTHON_GIL=1
against 3.14t). Each of them must be in the plan; otherwise the run could never answer
it and the user learns so after minutes of measuring. What the plan holds but the run
did not deliver (an invalid side, an interrupted run) is judged after the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.results.expectation import Expectation, ExpectationError
from loadtests.results.records import CellConfig, Plan


def _in_plan(e: Expectation, what: str, value: object, planned: Iterable[object]) -> None:
    have = sorted(set(planned), key=str)
    if value is not None and value not in have:
        raise ExpectationError(f"{e.text!r}: the run measures {e.scenario} with no {what} {value}; "
                               f"it has {', '.join(map(str, have))}")


def _answers(e: Expectation, group: ComparisonPlan) -> bool:
    first = group.arms[0]
    if (first.scenario, first.server) != (e.scenario, e.server or first.server):
        return False
    if e.users not in (None, first.users) or e.threads not in (None, first.threads):
        return False
    return any(e.matches_pair(cand, base) for cand in group.arms for base in group.arms if cand != base)


def _described(configs: Sequence[CellConfig]) -> str:
    return ", ".join(dict.fromkeys(f"{c.label} u{c.users}" for c in configs))


def check_scope(expectations: Iterable[Expectation], plan: Plan) -> None:
    """Raise :class:`ExpectationError` for the first expectation ``plan`` cannot answer, saying what it has."""
    groups = comparisons(plan.configs)
    scenarios = list(dict.fromkeys(c.scenario for c in plan.configs))
    for e in expectations:
        if e.scenario not in scenarios:
            raise ExpectationError(f"{e.text!r}: the run measures no scenario {e.scenario!r}; it has "
                                   f"{', '.join(scenarios)}")
        mine = [c for c in plan.configs if c.scenario == e.scenario]
        _in_plan(e, "server", e.server, (c.server for c in mine))
        _in_plan(e, "users level", e.users, (c.users for c in mine if c.server == (e.server or c.server)))
        _in_plan(e, "thread limit", e.threads, (c.threads for c in mine if c.server == (e.server or c.server)))
        if not any(_answers(e, g) for g in groups):
            raise ExpectationError(f"{e.text!r}: the run has no {e.ratio_name} comparison for "
                                   f"{e.scenario}; its {e.scenario} configurations are {_described(mine)}")
