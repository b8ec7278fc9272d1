"""``gil-lab clean`` and the Makefile's clean targets, on real directories.

Removal runs in a copy of the checkout (its ``loadtests/``, Makefile and the files that
make it a checkout), through ``make`` and the machine's ``python3``, as before any
set-up; locations the variables move point into the test's own directory. The real
checkout is only ever asked for a dry run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests.core.paths import CHECKOUT
from loadtests.workflow.clean import PARTS

assert CHECKOUT is not None
SYSTEM_PYTHON = shutil.which("python3") or "python3"


@dataclass(frozen=True)
class Tree:
    """A copy of the checkout with everything a set-up, a test run and a measurement leave behind."""

    root: Path
    home: Path
    cache: Path
    env: dict[str, str]

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "--no-print-directory", target, f"PYTHON={SYSTEM_PYTHON}"], cwd=self.root,
                              env=self.env, capture_output=True, text=True, timeout=120)

    def clean(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SYSTEM_PYTHON, "-m", "loadtests.cli.bootstrap", "clean", *args], cwd=self.root,
                              env=env or self.env, capture_output=True, text=True, timeout=120)


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    root = tmp_path / "lab"
    shutil.copytree(CHECKOUT / "loadtests", root / "loadtests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CHECKOUT / "scenarios", root / "scenarios", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(CHECKOUT / name, root / name)
    _touch(root / ".venv" / "bin" / "python")
    for name in ("app-gil", "app-ft", "own-ft-0123456789abcdef"):
        _touch(root / ".envs" / name / "bin" / "python")
    _touch(root / ".envs" / "interpreters.json", "{}")
    for name in (".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"):
        _touch(root / name / "data")
    _touch(root / "loadtests" / "__pycache__" / "paths.cpython-314.pyc")
    _touch(root / "scenarios" / "__pycache__" / "json_load.cpython-314.pyc")
    _touch(root / "results" / "20261126T102734Z-default-73e7" / "run.json", "{}")
    home, cache = tmp_path / "home", tmp_path / "cache"
    _touch(cache / "cpython" / "79f7cbbcd425be02" / "gil-e3b0c44298fc" / "bin" / "python3.14")
    _touch(cache / "bytecode" / "python3.14-abc3437fef14" / "compiled" / "srv" / "app" / "main.cpython-314.pyc")
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_")}
    env.update(HOME=str(home), LAB_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    return Tree(root, home, cache, env)


def test_make_clean_removes_environments_and_caches_and_keeps_results_and_builds(tree: Tree) -> None:
    proc = tree.make("clean")
    assert proc.returncode == 0, proc.stderr
    root = tree.root
    for gone in (".venv", ".envs", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
                 "loadtests/__pycache__", "scenarios/__pycache__"):
        assert not (root / gone).exists(), f"{gone} is still there"
    assert (root / "results" / "20261126T102734Z-default-73e7" / "run.json").is_file()
    assert (tree.cache / "cpython").is_dir() and not (tree.cache / "bytecode").exists()
    out = proc.stdout
    assert f"removing {tree.cache / 'bytecode'} (the bytecode compiled for the servers)" in out
    assert f"removing {root / '.envs' / 'app-ft'} (app environment)" in out
    assert f"removing {root / '.envs' / 'own-ft-0123456789abcdef'} (environment of a team's service)" in out
    assert f"removing {root / '.venv'} (the checkout's control plane)" in out
    assert f"removing 2 __pycache__ directories under {root}" in out
    assert "results" not in out


def test_make_clean_all_removes_the_user_cache_too(tree: Tree) -> None:
    proc = tree.make("clean-all")
    assert proc.returncode == 0, proc.stderr
    assert not tree.cache.exists() and not (tree.root / ".envs").exists()
    assert f"removing {tree.cache} (the lab's user cache)" in proc.stdout
    assert (tree.root / "results").is_dir()


def test_results_go_only_when_named(tree: Tree) -> None:
    proc = tree.clean("--results")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"removing {tree.root / 'results'} (run directories and history)"
    assert not (tree.root / "results").exists() and (tree.root / ".envs").is_dir() and tree.cache.is_dir()


@pytest.mark.slow
def test_a_second_clean_has_nothing_to_remove(tree: Tree) -> None:
    assert tree.make("clean").returncode == 0
    proc = tree.clean()
    assert proc.returncode == 0 and proc.stdout.strip() == "nothing to remove (environments, caches)"


def test_what_others_put_in_the_environments_directory_stays(tree: Tree) -> None:
    keep = _touch(tree.root / ".envs" / "notes.txt")
    assert tree.clean("--environments").returncode == 0
    assert keep.is_file() and not (tree.root / ".envs" / "app-gil").exists()


@pytest.mark.parametrize("variable", ["LAB_CACHE_DIR", "LAB_RESULTS_DIR"])
def test_a_location_that_holds_the_home_directory_is_refused(tree: Tree, variable: str) -> None:
    env = {**tree.env, variable: str(tree.home.parent)}
    proc = tree.clean("--all", "--results", env=env)
    assert proc.returncode == 1
    assert f"refusing to remove {tree.home.parent}: it holds {tree.home}" in proc.stderr
    assert (tree.root / ".venv").is_dir() and (tree.root / "results").is_dir()  # nothing went


@pytest.mark.slow
def test_the_command_on_the_checkout_dry_run_removes_nothing(tmp_path: Path) -> None:
    """The real `gil-lab` console command, on this checkout, with the moved locations in tmp_path."""
    cache = tmp_path / "cache"
    _touch(cache / "sources" / "Python-3.14.7.tar.xz")
    env = {**os.environ, "LAB_CACHE_DIR": str(cache), "LAB_RESULTS_DIR": str(tmp_path / "results")}
    _touch(tmp_path / "results" / "run" / "run.json")
    proc = subprocess.run([str(CHECKOUT / ".venv" / "bin" / "gil-lab"), "clean", "--builds", "--results", "--dry-run"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"would remove {cache} (the lab's user cache)",
                                        f"would remove {tmp_path / 'results'} (run directories and history)"]
    assert (cache / "sources" / "Python-3.14.7.tar.xz").is_file() and (tmp_path / "results" / "run").is_dir()


def _flags(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", help_text)) - {"--help"}


@pytest.mark.slow
def test_both_command_lines_offer_the_same_flags(tree: Tree) -> None:
    click_help = subprocess.run([str(CHECKOUT / ".venv" / "bin" / "gil-lab"), "clean", "--help"], capture_output=True,
                                text=True, timeout=60).stdout
    bootstrap_help = tree.clean("--help").stdout
    expected = {f"--{name}" for name in PARTS} | {"--all", "--dry-run"}
    assert _flags(click_help) == expected and _flags(bootstrap_help) == expected
