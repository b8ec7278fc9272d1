"""presets.py: a preset's groups expand to configurations, overrides narrow them, cells interleave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadtests.core.errors import ConfigError
from loadtests.core.machine import usable_cores
from loadtests.plan import presets
from loadtests.plan.comparisons import comparisons
from loadtests.plan.presets import Overrides, apply_overrides, available_presets, load_preset


@pytest.fixture
def preset_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    return tmp_path


def write(directory: Path, name: str, text: str) -> str:
    (directory / f"{name}.toml").write_text(text)
    return name


def test_a_group_is_the_product_of_its_lists(preset_dir: Path) -> None:
    write(preset_dir, "p", """
warmup_s = 1
duration_s = 3
repeats = 2
[[group]]
name = "g"
scenarios = ["json", "compute"]
servers = ["uvicorn", "granian"]
interpreters = ["3.14", "3.14t"]
users = [1, 4]
""")
    plan = load_preset("p")
    assert len(plan.configs) == 2 * 2 * 2 * 2 and {c.group for c in plan.configs} == {"g"}
    assert (plan.warmup_s, plan.duration_s, plan.repeats) == (1.0, 3.0, 2)
    assert len(plan.cells()) == 32
    first_repeat = plan.cells()[:16]
    assert all(r == 0 for _, r in first_repeat)  # repeat-major: every configuration once, then again
    pairs = [(a.config_id.replace("3.14t", "X").replace("3.14", "X"), a.interpreter, b.interpreter)
             for (a, _), (b, _) in zip(first_repeat[::2], first_repeat[1::2], strict=True)]
    for key, left, right in pairs:  # the two interpreters of a configuration sit side by side: A B A B
        assert (left, right) == ("3.14", "3.14t"), key


def test_python_gil_only_applies_to_the_free_threaded_build(preset_dir: Path) -> None:
    write(preset_dir, "p", """
[[group]]
interpreters = ["3.14", "3.14t"]
python_gil = ["unset", "1", "0"]
""")
    configs = load_preset("p").configs
    assert sorted((c.interpreter, c.python_gil or "unset") for c in configs) == [
        ("3.14", "unset"), ("3.14t", "0"), ("3.14t", "1"), ("3.14t", "unset")]


def test_cores_and_cpu_sets_follow_this_machine(preset_dir: Path) -> None:
    write(preset_dir, "p", """
[[group]]
parallelism = "processes"
workers = ["cores"]
cpus = [1, "cores"]
""")
    configs = load_preset("p").configs
    assert {c.workers for c in configs} == {usable_cores()}
    assert sorted({len(c.cpus or ()) for c in configs}) == sorted({1, usable_cores()})


@pytest.mark.parametrize(("body", "message"), [
    ("[[group]]\nscenarios = ['nope']", "unknown scenario 'nope'"),
    ("[[group]]\nservers = ['gunicorn']", "unknown server 'gunicorn'"),
    ("[[group]]\ninterpreters = ['3.13']", "unknown interpreter '3.13'"),
    ("[[group]]\nusers = [0]", "users takes integers >= 1"),
    ("[[group]]\nparallelism = 'fibers'", "parallelism must be"),
    ("[[group]]\ncpus = [[999]]", "CPUs [999] are not usable here"),
    ("description = 'no groups'", "defines no [[group]]"),
    ("prepare = ['make-coffee']\n[[group]]", "unknown prepare step"),
    ("[[group]\n", "is not valid TOML"),
])
def test_bad_presets_say_what_is_wrong(preset_dir: Path, body: str, message: str) -> None:
    write(preset_dir, "p", body)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_preset("p")


def test_an_unknown_preset_lists_the_available_ones(preset_dir: Path) -> None:
    write(preset_dir, "smoke", "[[group]]")
    with pytest.raises(ConfigError, match="unknown preset 'nope'; available: smoke"):
        load_preset("nope")
    assert available_presets() == ["smoke"]


def test_overrides_narrow_and_reshape_the_plan() -> None:
    plan = load_preset("default")
    narrowed = apply_overrides(plan, Overrides(scenarios=("json",), servers=("uvicorn",), users=(2,), repeats=1,
                                               duration_s=3.0, warmup_s=0.0, skip_microbench=True, http="h11"))
    assert {c.scenario for c in narrowed.configs} == {"json"} and {c.server for c in narrowed.configs} == {"uvicorn"}
    assert {c.users for c in narrowed.configs} == {2} and {c.http for c in narrowed.configs} == {"h11"}
    assert (narrowed.repeats, narrowed.duration_s, narrowed.warmup_s, narrowed.microbench) == (1, 3.0, 0.0, None)
    with pytest.raises(ConfigError, match="unknown server 'nginx'; choose from uvicorn, granian, hypercorn"):
        apply_overrides(load_preset("smoke"), Overrides(servers=("nginx",)))


def test_a_server_the_preset_lacks_runs_with_its_first_servers_settings() -> None:
    """`--preset default --servers hypercorn`: uvicorn's configurations, the 3.14 N-process baseline included."""
    preset = load_preset("default")
    plan = apply_overrides(preset, Overrides(servers=("hypercorn",)))
    assert {c.server for c in plan.configs} == {"hypercorn"}
    moved = {c.config_id.replace("/hypercorn/", "/uvicorn/") for c in plan.configs}
    assert moved == {c.config_id for c in preset.configs if c.server == "uvicorn"}
    assert any(c.parallelism == "processes" and c.workers > 1 for c in plan.configs)
    both = apply_overrides(preset, Overrides(servers=("granian", "hypercorn")))
    assert {c.server for c in both.configs} == {"granian", "hypercorn"}
    assert [c for c in both.configs if c.server == "granian"] == [c for c in preset.configs if c.server == "granian"]


def test_several_workers_mean_what_they_mean_to_the_new_server(preset_dir: Path) -> None:
    """uvicorn's two processes become granian's two threads with a loop each on 3.14t, and stay processes on 3.14."""
    write(preset_dir, "p", """
[[group]]
servers = ["hypercorn", "uvicorn"]
workers = [1, 2]
""")
    plan = apply_overrides(load_preset("p"), Overrides(servers=("granian",)))
    models = {(c.interpreter, c.workers): c.parallelism for c in plan.configs}
    assert models == {("3.14", 1): "threads", ("3.14t", 1): "threads", ("3.14", 2): "processes",
                      ("3.14t", 2): "threads"}
    assert len(plan.configs) == 4  # the first server's (uvicorn, the default) configurations only, not hypercorn's too


def test_threads_override_every_groups_thread_limit() -> None:
    plan = load_preset("capacity")
    swept = apply_overrides(plan, Overrides(threads=(1, 4)))
    assert {c.threads for c in swept.configs} == {1, 4}
    assert len(swept.configs) == 2 * len(plan.configs)  # every configuration, the N-process ones too, at each
    assert {c.group for c in swept.configs} == {c.group for c in plan.configs}
    assert {(c.config_id.replace("/t1/", "/tX/")) for c in swept.configs if c.threads == 1} == {
        c.config_id.replace("/t4/", "/tX/") for c in swept.configs if c.threads == 4}


def test_a_scenario_the_preset_lacks_runs_with_its_first_scenarios_settings() -> None:
    plan = apply_overrides(load_preset("smoke"), Overrides(scenarios=("compute",)))
    assert {c.scenario for c in plan.configs} == {"compute"}
    assert len(plan.configs) == len(load_preset("smoke").configs)


def test_a_locustfile_replaces_the_presets_scenarios_with_its_first_scenarios_settings() -> None:
    default = load_preset("default")
    plan = apply_overrides(default, Overrides(locustfile_scenario="locustfile"))
    compute = [c for c in default.configs if c.scenario == "compute"]  # the preset's first scenario, by name
    assert {c.scenario for c in plan.configs} == {"locustfile"}
    assert sorted(c.label for c in plan.configs) == sorted(c.label for c in compute)
    with pytest.raises(ConfigError, match="--locustfile replaces the preset's scenarios"):
        apply_overrides(default, Overrides(scenarios=("json",), locustfile_scenario="locustfile"))


def test_python_gil_0_adds_an_arm_beside_every_free_threaded_one() -> None:
    smoke = load_preset("smoke")
    plan = apply_overrides(smoke, Overrides(python_gil_0=True))
    added = [c for c in plan.configs if c.python_gil == "0"]
    assert [c.label for c in added] == ["3.14t+PYTHON_GIL=0 uvicorn w1 t8"]
    assert len(plan.configs) == len(smoke.configs) + 1
    (comparison,) = comparisons(plan.configs)  # it alternates with the others, in the same comparison
    assert [a.label for a in comparison.arms][-1] == "3.14t+PYTHON_GIL=0 uvicorn w1 t8"


def test_the_tune_preset_sweeps_every_interpreter_over_the_same_thread_limits() -> None:
    plan = load_preset("tune")
    assert plan.capacity is not None and plan.capacity.slo_ms == 500 and plan.max_time_s is not None
    sides = {(c.scenario, c.interpreter, c.parallelism, c.workers) for c in plan.configs}
    assert sides == {(s, i, p, w) for s in ("json", "compute")
                     for i, p, w in (("3.14", "threads", 1), ("3.14t", "threads", 1), ("3.14", "processes", usable_cores()))}
    for side in sides:
        assert sorted(c.threads for c in plan.configs
                      if (c.scenario, c.interpreter, c.parallelism, c.workers) == side) == [1, 2, 4, 8, 16], side
    assert {c.server for c in plan.configs} == {"uvicorn"}
    # each thread limit is one comparison: its three sides take turns, so equal settings are measured side by side
    found = comparisons(plan.configs)
    assert len(found) == 10 and all(len(c.arms) == 3 and len({a.threads for a in c.arms}) == 1 for c in found)
    narrowed = apply_overrides(plan, Overrides(threads=(2, 8), scenarios=("json",)))
    assert sorted({c.threads for c in narrowed.configs}) == [2, 8] and len(narrowed.configs) == 6


@pytest.mark.parametrize("name", ["smoke", "default", "full", "gil-trap", "capacity", "tune"])
def test_the_shipped_presets_load(name: str) -> None:
    plan = load_preset(name)
    assert plan.configs and plan.cells()


def test_a_tighter_precision_grows_the_time_budget_but_an_explicit_one_wins() -> None:
    default = load_preset("default")
    assert default.precision == 0.10 and default.max_time_s is not None
    budget = default.max_time_s
    assert apply_overrides(default, Overrides(precision=0.05)).max_time_s == 4 * budget  # (0.10 / 0.05)²
    assert apply_overrides(default, Overrides(precision=0.08)).max_time_s == round(budget * 1.5625, 1)
    assert apply_overrides(default, Overrides(precision=0.01)).max_time_s == 4 * budget  # at most 4×
    assert apply_overrides(default, Overrides(precision=0.20)).max_time_s == budget  # looser: the preset's
    assert apply_overrides(default, Overrides(precision=0.05, max_time_s=60)).max_time_s == 60
