"""The --expect grammar: what each form means, and a clear error for each way to get it wrong."""

from __future__ import annotations

import pytest

from loadtests.core.errors import ConfigError
from loadtests.results.expectation import ExpectationError, parse_expectation


@pytest.mark.parametrize(("text", "fields"), [
    ("json:3.14t/3.14>=1.5", dict(scenario="json", kind="interpreter", operator=">=", bound=1.5, server=None,
                                  users=None, threads=None, processes=None)),
    ("json@granian:3.14t/3.14>=1.5", dict(server="granian", kind="interpreter")),
    ("compute@uvicorn,u1:3.14t/3.14>=0.85", dict(scenario="compute", server="uvicorn", users=1, bound=0.85)),
    ("compute@u1,uvicorn,t16:3.14t/3.14<0.9", dict(server="uvicorn", users=1, threads=16, operator="<")),
    ("json:3.14t/3.14x2proc>=0.9", dict(kind="processes", processes=2)),
    ("json:3.14t/3.14xproc>0.8", dict(kind="processes", processes=None, operator=">")),
    (" json : 3.14t / 3.14 × 2 proc >= 0.9x ", dict(kind="processes", processes=2, bound=0.9)),
    ("json:3.14t+PYTHON_GIL=1/3.14t<=1.05", dict(kind="gil-toggle", operator="<=", bound=1.05)),
    ("gil-trap:3.14t/3.14>=1", dict(scenario="gil-trap")),
    ("my_orders:3.14t/3.14>=1e-1", dict(scenario="my_orders", bound=0.1)),
])
def test_good_expressions(text: str, fields: dict[str, object]) -> None:
    e = parse_expectation(text)
    for name, value in fields.items():
        assert getattr(e, name) == value, name
    assert e.text == text.strip()


@pytest.mark.parametrize(("text", "message"), [
    ("json", "missing ':'"),
    ("json:3.14t/3.14", "no comparison operator"),
    ("json:3.14t/3.14==1.5", "no comparison operator"),
    ("json:3.14t/3.14=>1.5", "'=>' is written '>='"),
    ("json:3.14t/3.14>>1.5", "the operator is one of"),
    ("json:3.14t/3.14>=", "the operator is one of"),
    ("json:3.14/3.14t<=0.8", "3.14t/3.14 >= 1.25"),
    ("json:3.14t/3.13>=1", "unknown ratio '3.14t/3.13'"),
    ("json:3.14t/3.14x0proc>=1", "at least 1"),
    ("json:3.14t/3.14>=abc", "not a number"),
    ("json:3.14t/3.14>=0", "positive ratio"),
    ("json:3.14t/3.14>=-2", "positive ratio"),
    ("json:3.14t/3.14>=nan", "positive ratio"),
    ("json@gunicorn:3.14t/3.14>=1", "unknown qualifier 'gunicorn'"),
    ("json@:3.14t/3.14>=1", "nothing after '@'"),
    ("json@u0:3.14t/3.14>=1", "'u0': a users level is u followed by an integer >= 1"),
    ("json@tx:3.14t/3.14>=1", "'tx': a thread limit"),
    ("json@uvicorn,granian:3.14t/3.14>=1", "the server is given twice"),
    ("json@u1,u2:3.14t/3.14>=1", "users is given twice"),
    ("js!on:3.14t/3.14>=1", "is not a scenario name"),
])
def test_bad_expressions_say_what_is_wrong_and_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ExpectationError) as caught:
        parse_expectation(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(repr(text)) and "the form is SCENARIO[@SERVER" in str(caught.value)
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(("operator", "end", "holds"), [
    (">=", 1.5, True), (">=", 1.49, False), (">", 1.5, False), (">", 1.51, True),
    ("<=", 1.5, True), ("<=", 1.51, False), ("<", 1.5, False), ("<", 1.49, True),
])
def test_operators_and_which_end_of_the_interval_they_use(operator: str, end: float, holds: bool) -> None:
    e = parse_expectation(f"json:3.14t/3.14{operator}1.5")
    assert e.holds(end) is holds
    assert e.uses_lower_end is (operator in (">=", ">"))
