"""paths: a checkout is told from an install, and each location has its default and its variable.

The installed side is exercised for real by tests/cli/test_installed_lab.py (a wheel in
a fresh venv); here, the checkout the suite runs from, and trees made to look like each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.core import paths


def test_the_suite_runs_from_a_checkout() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert repo == paths.CHECKOUT == paths.LAB_ROOT
    assert paths.setup_command() == "make setup"


def test_a_source_tree_is_a_checkout_and_site_packages_is_not(tmp_path: Path) -> None:
    source = tmp_path / "gil-lab"
    (source / "scenarios" / "presets").mkdir(parents=True)
    (source / "pyproject.toml").write_text("[project]\nname = 'gil-lab'\n")
    site = tmp_path / "site-packages"
    (site / "loadtests").mkdir(parents=True)
    (site / paths.DATA_PACKAGE / "scenarios" / "presets").mkdir(parents=True)
    assert paths.is_checkout(source)
    assert not paths.is_checkout(site)


@pytest.mark.parametrize(("function", "variable", "default"), [
    (paths.envs_dir, "LAB_ENVS_DIR", ".envs"),
    (paths.control_venv, "LAB_CONTROL_VENV", ".venv"),
    (paths.results_dir, "LAB_RESULTS_DIR", "results"),
])
def test_checkout_locations_and_their_variables(function, variable: str, default: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(variable, raising=False)
    assert paths.CHECKOUT is not None
    assert function() == paths.CHECKOUT / default
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert function() == tmp_path / "elsewhere"


def test_the_cache_follows_lab_cache_dir_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "gil-lab"
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"
