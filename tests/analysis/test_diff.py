"""diff.py: two runs matched by config_id, ratios with intervals, environment warnings."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadtests.analysis.diff import diff_runs, environment_warnings
from loadtests.analysis.figures.diff import RunDiff
from loadtests.analysis.run_analysis import analyse
from loadtests.cli import report_commands as cli_report
from loadtests.report.diff_text import render_diff
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run, write_run


def between(a: dict, b: dict) -> RunDiff:
    """``diff_runs`` of two run.json documents, each parsed and analysed."""
    return diff_runs(analyse(parse_run(a)), analyse(parse_run(b)))


def small(**kw: object) -> dict:
    return make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), trap=False, gil_toggle=False,
                    microbench=False, invalid_crash=False, **kw)  # type: ignore[arg-type]


def test_identical_runs_are_not_significant_and_warn_about_nothing() -> None:
    doc = small()
    d = between(doc, copy.deepcopy(doc))
    assert d.warnings == () and d.only_a == () and d.only_b == ()
    assert len(d.configs) == 3  # 3.14, 3.14t, 3.14 ×2 proc
    for c in d.configs:
        assert c.rps is not None and c.rps.ratio == pytest.approx(1.0) and c.verdict == "not significant"


def test_a_faster_b_is_significant_by_config() -> None:
    a = small(seed=1)
    b = copy.deepcopy(a)
    ft_id = next(c["config_id"] for c in b["cells"] if c["interpreter"] == "3.14t")
    for cell in b["cells"]:
        if cell["config_id"] == ft_id:
            cell["rps"] *= 1.5
    d = between(a, b)
    by = {c.config_id: c for c in d.configs}
    assert by[ft_id].rps is not None and by[ft_id].rps.ratio == pytest.approx(1.5)
    assert by[ft_id].verdict == "1.50× faster" and by[ft_id].rps.significant
    assert all(c.verdict == "not significant" for cid, c in by.items() if cid != ft_id)


def test_unmatched_and_invalid_configs_are_reported() -> None:
    a = small()
    b = make_run(scenarios=("json", "compute"), servers=("uvicorn",), users=(8,), trap=False, gil_toggle=False,
                 microbench=False, invalid_crash=False)
    gil_id = next(c["config_id"] for c in b["cells"] if c["interpreter"] == "3.14" and c["scenario"] == "json"
                  and c["parallelism"] == "threads")
    for cell in b["cells"]:
        if cell["config_id"] == gil_id:
            cell.update(valid=False, invalid_reason="server crashed (exit -9)")
    d = between(a, b)
    assert d.only_a == () and all(cid.startswith("compute/") for cid in d.only_b) and len(d.only_b) == 3
    bad = next(c for c in d.configs if c.config_id == gil_id)
    assert bad.rps is None and bad.verdict == "no valid repeat in run B"
    text = render_diff(d)
    assert "only in B: compute/" in text and "no valid repeat in run B" in text


def test_environment_differences_are_warned() -> None:
    a = small()
    b = copy.deepcopy(a)
    b["machine"]["cpu_model"] = "Intel Xeon"
    b["interpreters"]["3.14t"]["version"] = "3.14.8"
    b["interpreters"]["3.14t"]["packages"]["uvicorn"] = "0.38.0"
    b["interpreters"]["3.14"]["build"]["tarball_sha256"] = "cd" * 32
    b["machine"]["git_sha"] = "0" * 40
    w = environment_warnings(parse_run(a), parse_run(b))
    assert "CPU model differs: 'AMD EPYC 7B13 64-Core Processor' vs 'Intel Xeon'" in w
    assert "3.14t version differs: '3.14.7' vs '3.14.8'" in w
    assert "3.14t packages differ: uvicorn 0.37.0 → 0.38.0" in w
    assert any(x.startswith("3.14 build differs: 'abab") for x in w)
    assert any(x.startswith("lab commit differs") for x in w)
    assert render_diff(between(a, b)).count("  - ") == len(w)
    b["machine"]["git_dirty"] = True
    assert any(x.startswith("run B had uncommitted changes") for x in environment_warnings(parse_run(a),
                                                                                           parse_run(b)))


def test_diff_command_text_and_json(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", small(run_id="run-a"))
    b = write_run(tmp_path / "b", small(run_id="run-b", seed=3))
    result = CliRunner().invoke(cli_report.diff, [str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("A: run-a (default") and "B/A" in result.output
    result = CliRunner().invoke(cli_report.diff, [str(a), str(b / "run.json"), "--json"])
    data = json.loads(result.output)
    assert data["run_a"] == "run-a" and data["run_b"] == "run-b" and len(data["configs"]) == 3
    assert {"ratio", "low", "high", "significant", "verdict"} <= set(data["configs"][0])
