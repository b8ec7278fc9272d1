"""docs/api.md runs: each Python block of the page is executed as it stands; the packages offer what it names.

The first block analyses a stored run (the paired smoke fixture, placed where the
block looks for it); the second runs a real comparison of the smoke preset, so it is
an end-to-end test (real servers, real Locust, about a minute).
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import loadtests.analysis
import loadtests.report
import loadtests.results
import loadtests.workflow
from tests.conftest import require_setup
from tests.docs.markdown import REPO

PAGE = REPO / "docs" / "api.md"
FIXTURE = REPO / "tests" / "fixtures" / "run-json" / "v3" / "smoke-paired.json"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), re.M | re.S)


def test_the_page_has_the_two_examples() -> None:
    analyse_block, compare_block = python_blocks()
    assert "analyse(" in analyse_block and "write_report(" in analyse_block
    assert "compare(RunRequest(" in compare_block


@pytest.mark.slow
def test_analysing_a_stored_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    block = python_blocks()[0]
    run_dir = tmp_path / re.search(r'run_dir = Path\("([^"]+)"\)', block).group(1)  # type: ignore[union-attr]
    run_dir.mkdir(parents=True)
    shutil.copyfile(FIXTURE, run_dir / "run.json")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(PAGE), "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("json uvicorn 1.02× not significant\nnot significant\nrun 20261202T072903Z-smoke-ab24")
    assert "p95 vs SLO 300 ms" in (run_dir / "report.md").read_text()
    assert out.rstrip().endswith(str(Path("results/20261202T072903Z-smoke-ab24/report.html")))


@pytest.mark.slow
def test_running_a_comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    require_setup()
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[1], str(PAGE), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    (run_dir,) = (d for d in (tmp_path / "results").iterdir() if d.is_dir())
    assert {"run.json", "summary.json", "report.html", "report.md"} <= {p.name for p in run_dir.iterdir()}
    assert lines[-3:-1] == [str(run_dir.relative_to(tmp_path)), str(run_dir.relative_to(tmp_path) / "report.html")]
    assert re.fullmatch(r"json uvicorn \d+\.\d\d×", lines[-1])


@pytest.mark.parametrize("package", [loadtests.analysis, loadtests.report, loadtests.results, loadtests.workflow])
def test_every_public_name_is_there_and_named_on_the_page(package: types.ModuleType) -> None:
    table = PAGE.read_text().split("## ")[0]
    for name in package.__all__:
        assert not isinstance(getattr(package, name), types.ModuleType), name
    row = next(line for line in table.splitlines() if line.startswith(f"| `{package.__name__}` |"))
    named = {code for code in re.findall(r"`([^`]+)`", row.split("|")[2]) if code.isidentifier()}
    assert named, row
    offered = {*package.__all__, *loadtests.analysis.__all__, "loadtests"}  # a row may name the Analysis it takes
    assert named <= offered, named - offered


def test_workflow_names_stay_functions_once_every_module_is_imported() -> None:
    """The workflow package loads its names on first use: none may be shadowed by a module of the same name."""
    for path in Path(loadtests.workflow.__file__).parent.glob("*.py"):
        if path.stem != "__init__":
            importlib.import_module(f"loadtests.workflow.{path.stem}")
    for name in loadtests.workflow.__all__:
        assert not isinstance(getattr(loadtests.workflow, name), types.ModuleType), name


def test_the_workflow_package_imports_nothing_heavy_for_the_bootstrap() -> None:
    """``make setup`` imports workflow.clean on a bare Python: the package may not load psutil or matplotlib."""
    code = ("import sys, loadtests.workflow.clean; "
            "print(sorted({'psutil', 'matplotlib', 'click', 'locust'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
