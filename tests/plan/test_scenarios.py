"""scenarios.py: built-in scenarios and drop-in modules, and the Locust file each one runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.core.errors import ConfigError
from loadtests.plan.scenarios import (
    LOAD_MODULE_ENV,
    SCENARIOS_DIR,
    available_scenarios,
    scenario_env,
    scenario_file,
)


def test_built_in_scenarios_come_first_then_drop_ins(tmp_path: Path) -> None:
    (tmp_path / "billing.py").write_text("")
    (tmp_path / "_helper.py").write_text("")  # helpers are not scenarios
    names = available_scenarios([str(tmp_path)])
    assert names[: names.index("json") + 1][-1] == "json" and "billing" in names and "_helper" not in names
    assert names.index("billing") > names.index("json")


def test_each_scenario_names_its_locust_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "billing.py").write_text("")
    assert scenario_file("json") == SCENARIOS_DIR / "json_load.py" and scenario_env("json") == {}
    assert scenario_file("billing", [str(tmp_path)]) == SCENARIOS_DIR / "routes_load.py"
    assert scenario_env("billing", [str(tmp_path)]) == {LOAD_MODULE_ENV: "billing"}
    with pytest.raises(ConfigError, match="unknown scenario 'nope'"):
        scenario_file("nope")
