"""comparisons.py: which configurations alternate together, and the order of a block's windows."""

from __future__ import annotations

from dataclasses import replace

from loadtests.plan.comparisons import comparisons, connection_close
from loadtests.plan.presets import load_preset
from loadtests.results.records import CellConfig, ServiceRef

BASE = CellConfig(scenario="json", server="uvicorn", workers=1, parallelism="threads", threads=8, users=4,
                  python_gil=None, cpus=None, interpreter="3.14")


def test_the_default_preset_groups_every_scenario_server_and_users_level() -> None:
    found = {c.comparison_id: c for c in comparisons(load_preset("default").configs)}
    uvicorn = found["json/uvicorn/u4/t8"]
    assert [a.label for a in uvicorn.arms] == ["3.14 uvicorn w1 t8", "3.14t uvicorn w1 t8", "3.14 uvicorn ×2 proc"]
    # only the N-process arm gets a new connection per request; the others keep theirs
    assert [connection_close(a) for a in uvicorn.arms] == [False, False, True]
    assert [a.label for a in found["json/granian/u4/t8"].arms] == ["3.14 granian w1 t8", "3.14t granian w1 t8"]
    assert not any(connection_close(a) for a in found["json/granian/u4/t8"].arms)
    assert "json/uvicorn/u1/t8" not in found and "image/granian/u4/t8" not in found  # in the full preset
    assert "json/uvicorn/u1/t8" in {c.comparison_id for c in comparisons(load_preset("full").configs)}
    assert load_preset("default").instances == 2
    assert sum(len(c.arms) for c in found.values()) == len(load_preset("default").configs)


def test_a_block_visits_every_arm_once_and_every_other_block_runs_the_other_way() -> None:
    gil, ft = BASE, replace(BASE, interpreter="3.14t")
    procs = replace(BASE, parallelism="processes", workers=2)
    (two,) = comparisons([ft, gil])
    assert [c.interpreter for c in two.block(0)] == ["3.14", "3.14t"]
    assert [c.interpreter for c in two.block(1)] == ["3.14t", "3.14"]
    (three,) = comparisons([procs, ft, gil])
    assert [c.label for c in three.block(0)] == ["3.14 uvicorn w1 t8", "3.14t uvicorn w1 t8", "3.14 uvicorn ×2 proc"]
    assert [c.label for c in three.block(1)] == ["3.14 uvicorn ×2 proc", "3.14t uvicorn w1 t8", "3.14 uvicorn w1 t8"]
    (alone,) = comparisons([ft])
    assert alone.block(0) == [ft]


def test_what_sets_comparisons_apart_is_in_their_id() -> None:
    pinned = replace(BASE, cpus=(0,))
    found = comparisons([BASE, pinned, replace(BASE, users=8), replace(BASE, http="h11")])
    assert sorted(c.comparison_id for c in found) == ["json/uvicorn/u4/t8", "json/uvicorn/u4/t8/cpus0",
                                                      "json/uvicorn/u4/t8/http-h11", "json/uvicorn/u8/t8"]


def test_a_service_is_part_of_every_config_id_and_its_lock_never_splits_a_comparison() -> None:
    """config_id names the app, the lock hash of its interpreter's environment and the Locust file's hash."""
    gil = replace(BASE, service=ServiceRef("shop.main:app", "a" * 64, "c" * 64))
    ft = replace(BASE, interpreter="3.14t", service=ServiceRef("shop.main:app", "b" * 64, "c" * 64))
    assert gil.config_id.endswith("/u4/app-shop.main:app/lock-aaaaaaaaaaaa/locust-cccccccccccc")
    assert ft.config_id.endswith("/u4/app-shop.main:app/lock-bbbbbbbbbbbb/locust-cccccccccccc")
    assert "/app-" not in BASE.config_id
    other_app = replace(gil, service=ServiceRef("billing.main:app", "a" * 64, "c" * 64))
    other_file = replace(gil, service=ServiceRef("shop.main:app", "a" * 64, "d" * 64))
    other_lock = replace(gil, service=ServiceRef("shop.main:app", "e" * 64, "c" * 64))
    assert len({c.config_id for c in (gil, other_app, other_file, other_lock)}) == 4  # never two services as one
    (both,) = comparisons([gil, ft])  # the arms' locks differ (resolved per interpreter): still one comparison
    assert both.comparison_id == "json/uvicorn/u4/t8/app-shop.main:app/locust-cccccccccccc"
    assert len(comparisons([gil, ft, replace(other_app, interpreter="3.14t")])) == 2


def test_a_baseline_that_cannot_be_loaded_evenly_is_said_before_the_run() -> None:
    procs = replace(BASE, parallelism="processes", workers=2)
    (fine,) = comparisons([BASE, procs])
    assert fine.uneven_baselines() == []
    (one_user,) = comparisons([replace(BASE, users=1), replace(procs, users=1)])
    (why,) = one_user.uneven_baselines()
    assert "2 processes but 1 user(s)" in why
    (team,) = fine.uneven_baselines(team_locustfile=True)
    assert "your Locust file's requests go as you wrote them" in team
