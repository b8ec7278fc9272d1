"""comparisons.py: which configurations alternate together, and the palindromic order of a block."""

from __future__ import annotations

from dataclasses import replace

from loadtests.plan.comparisons import comparisons
from loadtests.plan.presets import load_preset
from loadtests.results.records import CellConfig

BASE = CellConfig(scenario="json", server="uvicorn", workers=1, parallelism="threads", threads=8, users=4,
                  python_gil=None, cpus=None, interpreter="3.14")


def test_the_default_preset_groups_every_scenario_server_and_users_level() -> None:
    found = {c.comparison_id: c for c in comparisons(load_preset("default").configs)}
    uvicorn = found["json/uvicorn/u4/t8"]
    assert [a.label for a in uvicorn.arms] == ["3.14 uvicorn w1 t8", "3.14t uvicorn w1 t8", "3.14 uvicorn ×2 proc t8"]
    assert uvicorn.needs_connection_close  # N processes: every arm gets a new connection per request
    assert [a.label for a in found["json/granian/u4/t8"].arms] == ["3.14 granian w1 t8", "3.14t granian w1 t8"]
    assert not found["json/granian/u4/t8"].needs_connection_close
    assert "json/uvicorn/u1/t8" in found  # the single-user cells are their own comparison
    assert sum(len(c.arms) for c in found.values()) == len(load_preset("default").configs)


def test_blocks_are_palindromes_that_change_direction() -> None:
    gil, ft = BASE, replace(BASE, interpreter="3.14t")
    procs = replace(BASE, parallelism="processes", workers=2)
    (two,) = comparisons([ft, gil])
    assert [c.interpreter for c in two.block(0)] == ["3.14", "3.14t", "3.14t", "3.14"]
    assert [c.interpreter for c in two.block(1)] == ["3.14t", "3.14", "3.14", "3.14t"]
    (three,) = comparisons([procs, ft, gil])
    assert [c.label for c in three.block(0)] == ["3.14 uvicorn w1 t8", "3.14t uvicorn w1 t8", "3.14 uvicorn ×2 proc t8",
                                                 "3.14 uvicorn ×2 proc t8", "3.14t uvicorn w1 t8", "3.14 uvicorn w1 t8"]
    (alone,) = comparisons([ft])
    assert alone.block(0) == [ft, ft]


def test_what_sets_comparisons_apart_is_in_their_id() -> None:
    pinned = replace(BASE, cpus=(0,))
    found = comparisons([BASE, pinned, replace(BASE, users=8), replace(BASE, http="h11")])
    assert sorted(c.comparison_id for c in found) == ["json/uvicorn/u4/t8", "json/uvicorn/u4/t8/cpus0",
                                                      "json/uvicorn/u4/t8/http-h11", "json/uvicorn/u8/t8"]
