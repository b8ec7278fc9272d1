"""analysis.figures holds records and constants only.

The import-linter contract in ``make lint`` keeps renderers off every module of
``loadtests.analysis`` but those of ``analysis.figures``; these tests keep that contract
meaningful: a figures module defines no function, and analysis has no other subpackage
(the contract names the computing modules as ``loadtests.analysis.*``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import loadtests.analysis

ANALYSIS = Path(loadtests.analysis.__file__).parent


def test_figures_modules_define_no_function() -> None:
    for path in sorted((ANALYSIS / "figures").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        functions = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        assert functions == [], f"{path.name} computes ({', '.join(functions)}): move it beside analysis.figures"


def test_analysis_has_no_subpackage_but_figures() -> None:
    assert [p.parent.name for p in ANALYSIS.glob("*/__init__.py")] == ["figures"]
