"""Expectations checked against a real preset's plan, before anything is measured."""

from __future__ import annotations

import re

import pytest

from loadtests.core.machine import usable_cores
from loadtests.plan.expectation_scope import check_scope
from loadtests.plan.presets import load_preset
from loadtests.results.expectation import ExpectationError, parse_expectation


@pytest.mark.parametrize("text", [
    "json:3.14t/3.14>=1.5",
    "json@granian:3.14t/3.14>=1.5",
    "compute@granian,u4:3.14t/3.14>=1",
    "compute@u4,t8:3.14t/3.14>=1",
    "json:3.14t/3.14xproc>=0.9",
    f"image@uvicorn:3.14t/3.14x{usable_cores()}proc>=0.9",
])
def test_what_the_default_preset_measures_is_accepted(text: str) -> None:
    check_scope([parse_expectation(text)], load_preset("default"))


@pytest.mark.parametrize(("text", "message"), [
    ("hash:3.14t/3.14>=1", "no scenario 'hash'; it has compute, image, json"),
    ("json@u16:3.14t/3.14>=1", "no users level 16; it has 4"),
    ("image@u1:3.14t/3.14>=1", "no users level 1; it has 4"),
    ("json@t4:3.14t/3.14>=1", "no thread limit 4; it has 8"),
    ("json@granian:3.14t/3.14xproc>=1", "no 3.14t/3.14×N proc comparison for json"),
    ("json@u1:3.14t/3.14>=0.85", "no users level 1; it has 4"),  # the one-user cells are in the full preset
    ("image@granian:3.14t/3.14>=1", "image with no server granian; it has uvicorn"),
    ("json:3.14t/3.14x64proc>=1", "no 3.14t/3.14×64 proc comparison"),
    ("json:3.14t+PYTHON_GIL=1/3.14t<=1.1", "no 3.14t+PYTHON_GIL=1/3.14t comparison"),
])
def test_what_the_plan_never_measures_is_refused_with_what_it_has(text: str, message: str) -> None:
    with pytest.raises(ExpectationError, match="^" + re.escape(repr(text))) as caught:
        check_scope([parse_expectation(text)], load_preset("default"))
    assert message in str(caught.value)


def test_the_smoke_preset_has_one_server() -> None:
    with pytest.raises(ExpectationError, match="no server granian; it has uvicorn"):
        check_scope([parse_expectation("json@granian:3.14t/3.14>=1")], load_preset("smoke"))
