"""The bytecode step: what the servers import compiled into the lab's own prefix, never beside the sources."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from loadtests.core.paths import LAB_ROOT
from loadtests.provision import bytecode
from loadtests.results.records import CellConfig
from loadtests.workflow.bytecode_step import app_trees


def _read_only_tree(root: Path) -> Path:
    tree = root / "team"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("CONSTANT = 1_000_003\n")
    (tree / "main.py").write_text("from pkg import CONSTANT\n")
    (tree / "broken.py").write_text("def (:\n")  # cannot compile: it would load (and fail) from source
    (tree / ".venv" / "lib").mkdir(parents=True)
    (tree / ".venv" / "lib" / "vendored.py").write_text("x = 1\n")  # another environment: left alone
    for path in [*tree.rglob("*"), tree]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return tree


@pytest.mark.slow  # two interpreter start-ups
def test_a_read_only_tree_is_compiled_into_the_prefix_and_left_untouched(tmp_path: Path) -> None:
    tree = _read_only_tree(tmp_path)
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    prefix = tmp_path / "prefix"
    [first] = bytecode.compile_trees(Path(sys.executable), prefix, [bytecode.Tree("team app", tree)])
    assert (first.kind, first.files, first.compiled, first.failed) == ("team app", 3, 2, 1)
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before  # no __pycache__ in the team's tree
    mirrored = prefix / str(tree).lstrip("/")
    assert sorted(p.name for p in mirrored.rglob("*.pyc")) == sorted(
        [f"__init__.{sys.implementation.cache_tag}.pyc", f"main.{sys.implementation.cache_tag}.pyc"])
    [again] = bytecode.compile_trees(Path(sys.executable), prefix, [bytecode.Tree("team app", tree)])
    assert (again.compiled, again.failed) == (0, 1)  # current bytecode is only checked


def test_servers_get_the_prepared_prefix_and_never_write_and_otherwise_none_of_the_shells_values() -> None:
    assert bytecode.server_environment("/cache/p") == {"PYTHONPYCACHEPREFIX": "/cache/p",
                                                       "PYTHONDONTWRITEBYTECODE": "1"}
    assert bytecode.server_environment(None) == {"PYTHONPYCACHEPREFIX": "", "PYTHONDONTWRITEBYTECODE": ""}


def test_the_shell_bytecode_variables_are_recorded_and_nothing_else() -> None:
    shell = bytecode.shell_values({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": "/x", "HOME": "/root"})
    assert shell == {"PYTHONDONTWRITEBYTECODE": "1"}


def test_each_interpreter_and_mode_has_its_own_prefix(tmp_path: Path) -> None:
    a = bytecode.prefix_for(Path(sys.executable), "compiled", tmp_path)
    assert a != bytecode.prefix_for(Path(sys.executable), "source", tmp_path)
    assert a.parent.parent == tmp_path and a.name == "compiled"


def test_the_app_trees_are_the_lab_app_or_the_team_directory_and_the_drop_ins(tmp_path: Path) -> None:
    routes = str(tmp_path / "routes")
    configs = (CellConfig("json", "uvicorn", 1, "threads", 8, 4, None, None, "3.14", (routes,), "g"),)
    assert [(t.kind, t.path) for t in app_trees(configs, None)] == [("app", LAB_ROOT / "app"),
                                                                    ("routes", Path(routes))]
