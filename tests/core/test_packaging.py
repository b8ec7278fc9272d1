"""pyproject.toml's package list covers the tree, so a new directory cannot silently stay out of the wheel.

The wheel itself is built and installed by tests/cli/test_installed_lab.py (slow); this
is the quick check that runs with every `pytest -m "not slow"`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from loadtests.core.paths import CHECKOUT, DATA_PACKAGE

assert CHECKOUT is not None
CONFIG = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["setuptools"]
DATA_DIRS = ("app", "scenarios", "locks")


def _directories(top: str) -> list[Path]:
    root = CHECKOUT / top
    return [root, *(p for p in sorted(root.rglob("*")) if p.is_dir() and p.name != "__pycache__"
                    and "__pycache__" not in p.parts)]


def _package(directory: Path) -> str:
    relative = directory.relative_to(CHECKOUT)
    dotted = ".".join(relative.parts)
    return dotted if relative.parts[0] == "loadtests" else f"{DATA_PACKAGE}.{dotted}"


def test_every_package_of_the_lab_and_every_data_directory_is_listed() -> None:
    listed = set(CONFIG["packages"])
    wanted = {_package(d) for d in _directories("loadtests") if (d / "__init__.py").is_file()}
    wanted |= {_package(d) for top in DATA_DIRS for d in _directories(top) if any(p.is_file() for p in d.iterdir())}
    assert sorted(wanted - listed) == [], "add these to [tool.setuptools].packages in pyproject.toml"
    assert sorted(listed - wanted) == [], "these are listed but do not exist"


def test_every_data_file_that_is_not_python_has_a_package_data_pattern() -> None:
    patterns = CONFIG["package-data"]
    for top in DATA_DIRS:
        for directory in _directories(top):
            for path in directory.iterdir():
                if path.is_file() and path.suffix != ".py":
                    globs = patterns.get(_package(directory), [])
                    assert any(path.match(g) for g in globs), f"{path.relative_to(CHECKOUT)} matches no package-data"


def test_the_data_directories_map_to_the_data_package() -> None:
    assert CONFIG["package-dir"] == {f"{DATA_PACKAGE}.{top}": top for top in DATA_DIRS}
