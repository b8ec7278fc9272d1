"""record.py and the records package: strict reading, faithful writing, values checked when built."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.results.migrations import migrate
from loadtests.results.record import RecordError, json_keys
from loadtests.results.migrations import migrate
from loadtests.results.records import Cell, CellConfig, Latency, Plan, Sample
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run


def config(**changes: object) -> CellConfig:
    base = CellConfig(scenario="json", server="uvicorn", workers=1, parallelism="threads", threads=8, users=4,
                      python_gil=None, cpus=None, interpreter="3.14t")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_run_survives_a_json_round_trip() -> None:
    run = parse_run(make_run())
    assert type(run).from_json(json.loads(json.dumps(run.to_json()))) == run


def test_config_id_names_what_sets_a_configuration_apart() -> None:
    assert config().config_id == "json/uvicorn/3.14t/gil-default/w1/t8/u4"
    assert config(python_gil="1").config_id == "json/uvicorn/3.14t/gil-1/w1/t8/u4"
    assert config(interpreter="3.14", parallelism="processes", workers=2).config_id == \
        "json/uvicorn/3.14/gil-default/w2/processes/t8/u4"
    assert config(cpus=(0, 1)).config_id.endswith("/u4/cpus0-1")
    assert config(cpus=(0, 1, 2, 5)).config_id.endswith("/u4/cpus0-2,5")
    assert config(routes_dirs=("/srv/team/routes",)).config_id.endswith("/u4/routes-routes")
    assert config(http="h11", loop="asyncio").config_id.endswith("/u4/http-h11/loop-asyncio")
    assert config(group="headline") == config(group="single-user")  # the group is a label, not identity
    assert config().cell_id(2) == config().config_id + "/r2"


def test_labels_name_the_thread_limit_of_every_shape() -> None:
    procs = {"interpreter": "3.14", "parallelism": "processes", "workers": 2}
    assert config().label == "3.14t uvicorn w1 t8"
    assert config(**procs).label == "3.14 uvicorn ×2 proc"  # the default thread limit, as every run wrote it
    assert config(**procs, threads=2).label == "3.14 uvicorn ×2 proc t2"  # a thread sweep of N processes stays apart
    assert config(python_gil="1", cpus=(0, 1)).label == "3.14t+PYTHON_GIL=1 uvicorn w1 t8 cpus0-1"


@pytest.mark.parametrize(("changes", "message"), [
    ({"interpreter": "3.13"}, "unknown interpreter"),
    ({"server": "gunicorn"}, "unknown server"),
    ({"users": 0}, "must be >= 1"),
    ({"interpreter": "3.14", "python_gil": "0"}, "PYTHON_GIL=0 is not allowed on 3.14"),
])
def test_a_configuration_checks_its_values_when_built(changes: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, Exception), match=message):
        config(**changes)


def test_reading_names_the_path_of_a_wrong_value() -> None:
    good = Latency(p50=1.0, p95=2.0, p99=3.0, mean=1.5, max=4.0).to_json()
    with pytest.raises(RecordError, match=r"latency\.p95: expected float, got 'fast'"):
        Latency.from_json({**good, "p95": "fast"}, path="latency")
    with pytest.raises(RecordError, match="missing key 'max'"):
        Latency.from_json({k: v for k, v in good.items() if k != "max"})
    with pytest.raises(RecordError, match="unknown key\\(s\\) p42"):
        Latency.from_json({**good, "p42": 2.5})
    with pytest.raises(RecordError, match="expected int, got True"):
        Sample.from_json({"t": 0.5, "server_rss_mb": 1.0, "server_threads": True, "server_cpu_cores": None,
                          "client_cpu_seconds": None})


def test_an_integer_reads_as_a_float_but_not_the_other_way_round() -> None:
    assert Latency.from_json({"p50": 1, "p95": 2, "p99": 3, "mean": 2, "max": 4}).p50 == 1.0
    with pytest.raises(RecordError):
        CellConfig.from_json({**config().to_json(), "workers": 1.5})


def test_a_non_finite_number_is_never_written() -> None:
    with pytest.raises(RecordError, match="non-finite"):
        Latency(p50=math.nan, p95=1.0, p99=1.0, mean=1.0, max=1.0).to_json()


def test_a_plan_orders_cells_repeat_major_with_interpreters_side_by_side() -> None:
    gil, ft = config(interpreter="3.14"), config()
    other = config(scenario="compute", interpreter="3.14")
    plan = Plan(name="p", description="", warmup_s=1, duration_s=2, repeats=2, configs=(ft, other, gil),
                microbench=None)
    order = [(c.scenario, c.interpreter, r) for c, r in plan.cells()]
    assert order == [("compute", "3.14", 0), ("json", "3.14", 0), ("json", "3.14t", 0),
                     ("compute", "3.14", 1), ("json", "3.14", 1), ("json", "3.14t", 1)]


V4_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v4" / "capacity-workers.json"


def test_a_cell_holds_its_configuration_and_writes_the_same_flat_keys_the_runner_wrote() -> None:
    # written by the real runner before Cell held a CellConfig; migrated, it holds every key of this version
    stored = migrate(json.loads(V4_FIXTURE.read_text()))["cells"]
    for document in stored:
        cell = Cell.from_json(document)
        # every key, every value: the file's format did not change (version 6 only added crash and hang, null)
        assert cell.to_json() == {**document, "crash": None, "hang": None}
        assert cell.config.python_gil == document["python_gil_env"] and cell.config.users == document["users"]
        assert cell.config.cell_id(cell.repeat) == cell.id and cell.free_threaded == cell.config.flavour.free_threaded
    assert "config" not in stored[0] and "python_gil" not in stored[0]


def test_a_derived_key_that_contradicts_the_record_is_refused() -> None:
    document = json.loads(V4_FIXTURE.read_text())["cells"][0]
    with pytest.raises(RecordError, match=r"Cell\.free_threaded: .* does not match the record"):
        Cell.from_json({**document, "free_threaded": not document["free_threaded"]})
    with pytest.raises(RecordError, match="missing key 'server' for Cell"):
        Cell.from_json({k: v for k, v in document.items() if k != "server"})
    with pytest.raises(RecordError, match="unknown key"):
        Cell.from_json({**document, "python_gil": None})  # the held record's own name is not a key of the cell


def test_a_cell_s_keys_are_laid_out_once_for_reading_writing_and_the_schema() -> None:
    keys = [key.name for key in json_keys(Cell)]
    assert keys[:3] == ["free_threaded", "id", "config_id"] and "python_gil_env" in keys and "config" not in keys
    assert len(keys) == len(set(keys))
    assert {k.name for k in json_keys(CellConfig)} - {"python_gil"} < set(keys)
