"""``--expect`` expressions: a bound on one measured ratio, which CI turns into an exit status.

The grammar (docs/ci.md has it with examples)::

    expectation := scenario [ "@" qualifier { "," qualifier } ] ":" ratio operator bound
    qualifier   := server | "u" users | "t" threads
    ratio       := "3.14t/3.14"                    the interpreter comparison
                 | "3.14t/3.14x" [ N ] "proc"       against 3.14 with N worker processes (no N: the run's)
                 | "3.14t+PYTHON_GIL=1/3.14t"       the GIL forced back on
    operator    := ">=" | "<=" | ">" | "<"
    bound       := a positive number, optionally followed by "x"

Spaces are ignored. ``json@granian,u4:3.14t/3.14>=1.5`` reads "on json under granian
with 4 users, 3.14t serves at least 1.5 times the throughput of 3.14". The bound
applies to the ratio's 95% interval, never its point estimate: ``>=`` and ``>`` to the
lower end, ``<=`` and ``<`` to the upper end. This module only parses; which
comparison an expression selects is :mod:`loadtests.analysis.expectation_check`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from loadtests.core.errors import ConfigError
from loadtests.core import servers
from loadtests.core.flavour import FT, GIL

Kind = Literal["interpreter", "processes", "gil-toggle"]
Operator = Literal[">=", "<=", ">", "<"]
OPERATORS: tuple[Operator, ...] = (">=", "<=", ">", "<")
_OPERATORS: dict[str, Operator] = {op: op for op in OPERATORS}
FORM = "SCENARIO[@SERVER,uUSERS,tTHREADS]:RATIO(>=|<=|>|<)BOUND, e.g. json@granian:3.14t/3.14>=1.5 (docs/ci.md)"

_SCENARIO = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_INTERPRETER_RATIO = f"{FT.label}/{GIL.label}"
_GIL_TOGGLE_RATIO = f"{FT.label}+PYTHON_GIL=1/{FT.label}"
_PROCESSES_RATIO = re.compile(re.escape(_INTERPRETER_RATIO) + r"[x×](?P<n>\d*)proc")
_OPERATOR = re.compile(r"(>=|<=|>|<)")


class Side(Protocol):
    """One side of a comparison: a planned configuration or a summary's label of it."""

    @property
    def interpreter(self) -> str: ...
    @property
    def python_gil(self) -> str | None: ...
    @property
    def parallelism(self) -> str: ...
    @property
    def workers(self) -> int: ...


def _default_ft(side: Side) -> bool:
    """3.14t as deployed: PYTHON_GIL unset, or 0 (which only confirms the default)."""
    return side.interpreter == FT.label and side.python_gil in (None, "0")


class ExpectationError(ConfigError):
    """Raised when an ``--expect`` expression does not parse, or names what the run does not measure.

    The message quotes the expression, says what is wrong and gives the form to use.
    The CLI reports it as a usage error (exit status 2) before anything is measured.
    """


@dataclass(frozen=True)
class Expectation:
    """One parsed ``--expect`` expression."""

    text: str  # as the user wrote it, for messages
    scenario: str
    kind: Kind
    operator: Operator
    bound: float
    server: str | None = None  # None: every server the run measured the scenario on
    users: int | None = None  # None: the highest users level
    threads: int | None = None  # None: the widest thread pool at that level
    processes: int | None = None  # the N of 3.14 × N processes; None: the run's (the largest)

    @property
    def ratio_name(self) -> str:
        if self.kind == "interpreter":
            return _INTERPRETER_RATIO
        if self.kind == "gil-toggle":
            return _GIL_TOGGLE_RATIO
        return f"{_INTERPRETER_RATIO}×{self.processes or 'N'} proc"

    @property
    def uses_lower_end(self) -> bool:
        """``>=``/``>`` hold when the interval's lower end clears the bound; ``<=``/``<`` look at its upper end."""
        return self.operator in (">=", ">")

    def is_candidate(self, side: Side) -> bool:
        """Whether ``side`` can be the numerator of this expectation's ratio."""
        if self.kind == "gil-toggle":
            return side.interpreter == FT.label and side.python_gil == "1"
        return _default_ft(side) and (self.kind == "interpreter" or side.parallelism == "threads")

    def is_baseline(self, side: Side) -> bool:
        """Whether ``side`` can be the denominator (for ``x<N>proc``: 3.14 with exactly N processes)."""
        if self.kind == "gil-toggle":
            return _default_ft(side)
        if self.kind == "interpreter":
            return side.interpreter == GIL.label
        return (side.interpreter == GIL.label and side.parallelism == "processes"
                and self.processes in (None, side.workers))

    def matches_pair(self, candidate: Side, baseline: Side) -> bool:
        """Whether the two sides make this expectation's comparison (same shape, except against N processes)."""
        same_shape = (candidate.parallelism, candidate.workers) == (baseline.parallelism, baseline.workers)
        return (self.is_candidate(candidate) and self.is_baseline(baseline)
                and (self.kind == "processes" or same_shape))

    def holds(self, end: float) -> bool:
        """Whether the relevant end of the interval satisfies the bound."""
        return {">=": end >= self.bound, ">": end > self.bound, "<=": end <= self.bound,
                "<": end < self.bound}[self.operator]


def _fail(text: str, why: str) -> ExpectationError:
    return ExpectationError(f"{text!r}: {why}; the form is {FORM}")


def _ratio(text: str, ratio: str) -> tuple[Kind, int | None]:
    if ratio == _INTERPRETER_RATIO:
        return "interpreter", None
    if ratio == _GIL_TOGGLE_RATIO:
        return "gil-toggle", None
    if m := _PROCESSES_RATIO.fullmatch(ratio):
        n = int(m["n"]) if m["n"] else None
        if n is not None and n < 1:
            raise _fail(text, "the process count must be at least 1")
        return "processes", n
    if ratio == f"{GIL.label}/{FT.label}":
        raise _fail(text, f"the ratio is always {FT.label} over its baseline: write {_INTERPRETER_RATIO} and "
                          "invert the bound (3.14/3.14t <= 0.8 is 3.14t/3.14 >= 1.25)")
    raise _fail(text, f"unknown ratio {ratio!r}: use {_INTERPRETER_RATIO}, {_INTERPRETER_RATIO}x<N>proc "
                      f"(or {_INTERPRETER_RATIO}xproc for the run's process count) or {_GIL_TOGGLE_RATIO}")


def _count(text: str, qualifier: str) -> int:
    """``u4`` -> 4, ``t8`` -> 8."""
    what, example = ("a users level", "u4") if qualifier[0] == "u" else ("a thread limit", "t8")
    digits = qualifier[1:]
    if not digits.isdigit() or int(digits) < 1:
        raise _fail(text, f"{qualifier!r}: {what} is {qualifier[0]} followed by an integer >= 1, as in {example}")
    return int(digits)


def _qualifiers(text: str, spec: str) -> tuple[str | None, int | None, int | None]:
    """``granian,u4,t8`` -> (server, users, threads), each at most once."""
    server: str | None = None
    counts: dict[str, int] = {}
    for q in spec.split(",") if spec else ():
        if q in servers.names():
            if server is not None:
                raise _fail(text, "the server is given twice")
            server = q
        elif q[:1] in ("u", "t"):
            what = "users" if q[0] == "u" else "threads"
            if what in counts:
                raise _fail(text, f"{what} is given twice")
            counts[what] = _count(text, q)
        else:
            raise _fail(text, f"unknown qualifier {q!r} after '@': a server ({', '.join(servers.names())}), "
                              "u<users> or t<threads>")
    return server, counts.get("users"), counts.get("threads")


def _bound(text: str, value: str) -> float:
    number = value[:-1] if value[-1:] in ("x", "×") else value
    try:
        bound = float(number)
    except ValueError:
        raise _fail(text, f"the bound {value!r} is not a number") from None
    if not math.isfinite(bound) or bound <= 0:
        raise _fail(text, f"the bound must be a positive ratio, not {value!r}")
    return bound


def parse_expectation(text: str) -> Expectation:
    """Parse one expression; an :class:`ExpectationError` says what is wrong and how to write it."""
    compact = "".join(text.split())
    selector, colon, rest = compact.partition(":")
    if not colon:
        raise _fail(text, "missing ':' between the scenario and the ratio")
    scenario, at, spec = selector.partition("@")
    if not _SCENARIO.fullmatch(scenario):
        raise _fail(text, f"{scenario!r} is not a scenario name")
    if at and not spec:
        raise _fail(text, "nothing after '@'")
    if "=>" in rest or "=<" in rest:
        raise _fail(text, "'=>' is written '>=' and '=<' is written '<='")
    parts = _OPERATOR.split(rest, maxsplit=1)
    if len(parts) != 3:
        raise _fail(text, f"no comparison operator: use one of {', '.join(OPERATORS)}")
    ratio, operator, bound = parts
    if not bound or bound[0] in "=<>":
        raise _fail(text, "the operator is one of >=, <=, >, < followed by a number")
    kind, processes = _ratio(text, ratio)
    server, users, threads = _qualifiers(text, spec)
    return Expectation(text=text.strip(), scenario=scenario, kind=kind, operator=_OPERATORS[operator],
                       bound=_bound(text, bound), server=server, users=users, threads=threads, processes=processes)
