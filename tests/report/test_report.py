"""build.py and its renderers: every section, on full, minimal and broken runs; the CLI commands over them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadtests.analysis.configs import summarize_configs
from loadtests.analysis.run_analysis import analyse
from loadtests.cli import report_commands as cli_report
from loadtests.core.errors import ResultsError
from loadtests.report.build import build_report
from loadtests.report.document import Chart, Table
from loadtests.report.terminal import render_terminal
from loadtests.report.verdict import verdict_paragraph
from loadtests.results.store import parse_run
from loadtests.workflow.reports import load_analysis
from loadtests.workflow.reports import report as rewrite_report
from tests.fixtures.synthetic_runs import make_run, write_run

SECTIONS = ["verdict", "throughput", "scaling", "latency", "memory", "claims", "capacity", "method"]


def smoke_like() -> dict:
    """The smoke preset's shape: json/uvicorn, 3.14 vs 3.14t, 8 users, 2 repeats, nothing else."""
    return make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), repeats=2, trap=False,
                    gil_toggle=False, microbench=False, invalid_crash=False)


def _doc_tables(doc) -> dict[str, Table]:  # noqa: ANN001
    return {b.id: b for s in doc.sections for b in s.blocks if isinstance(b, Table)}


def _doc_charts(doc) -> list[str]:  # noqa: ANN001
    return [b.id for s in doc.sections for b in s.blocks if isinstance(b, Chart)]


@pytest.mark.slow
def test_full_report_has_every_section_chart_and_table(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", make_run())
    paths = rewrite_report(run_dir, 500, 100)
    html = paths.html.read_text()
    md = paths.markdown.read_text()
    assert [re.search(f'<section id="{s}">', html) is not None for s in SECTIONS] == [True] * 8
    assert html.count("<svg") >= 5 and "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org", "")  # self-contained: only SVG namespace URIs
    assert {p.name for p in paths.charts} == {"throughput.png", "scaling.png", "microbench.png", "latency.png",
                                              "memory.png", "forest-json.png", "forest-compute.png",
                                              "forest-image.png", "forest-async.png"}
    for png in paths.charts:
        assert png.read_bytes()[:4] == b"\x89PNG"
        assert f"](charts/{png.name})" in md
    assert [line for line in md.splitlines() if line.startswith("## ")] == [
        "## The decision, per scenario", "## 1 Verdict", "## 2 Throughput", "## 3 Scaling", "## 4 Latency", "## 5 Memory", "## 6 Claims C1–C6",
        "## 7 Capacity", "## 8 Method and environment"]
    # invalid cells are explained in section 8, with their reasons
    assert "server crashed (exit -9)" in md and "GIL enabled by module _lab_trap_ext" in md
    # capacity with a target: cores columns; refused projections say why
    assert "cores for 100 rps (linear)" in md and "Too few points" in md
    # the 3.14 N-process baseline is in the throughput comparisons and the memory table
    assert "3.14t threads vs 3.14 processes" in md and "(vs 2 proc)" in md


@pytest.mark.slow
def test_every_chart_axis_has_a_label_with_a_unit(tmp_path: Path) -> None:
    a = analyse(parse_run(make_run(cores=4, cpu_sweep=(1, 2, 3, 4))))
    doc = build_report(a)
    charts = [b for s in doc.sections for b in s.blocks if isinstance(b, Chart)]
    assert {c.id for c in charts} >= {"chart-throughput", "chart-scaling", "chart-microbench", "chart-latency",
                                      "chart-memory", "chart-projection"}
    # a quantity with its unit, or a categorical axis of configurations
    unit = re.compile(r"\((requests/s|ms|MB|count|×|ops/s)\)|users \(Locust users\)|^configuration$")
    for c in charts:
        # matplotlib writes each axis label as a text path with the label as a comment-free <g id="text_…">;
        # the labels themselves are set by charts.py, so check the source strings made it in as titles
        assert "<svg" in c.svg and c.png.endswith(".png")
    import matplotlib.pyplot as plt

    from loadtests.report import charts as ch

    figs = [ch.throughput_chart(a.configs, a.scenarios), ch.scaling_chart(a.sweeps),
            ch.latency_chart(a.configs, a.scenarios, 500), ch.memory_chart(a.configs, a.scenarios),
            ch.projection_chart(a.capacity.projections)]
    for fig in figs:
        assert fig is not None
        for ax in fig.axes:
            if ax.get_visible():
                assert unit.search(ax.get_xlabel()), ax.get_xlabel()
                assert unit.search(ax.get_ylabel()), ax.get_ylabel()
        plt.close(fig)


@pytest.mark.slow
def test_projection_is_labelled_as_such(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", make_run(cores=4, cpu_sweep=(1, 2, 3, 4)))
    md = rewrite_report(run_dir).markdown.read_text()
    assert "**Projection, not measurement.**" in md and "PROJECTED throughput at cores" in md
    assert "R² " in md and "4.0→" not in md  # points are shown as "4→…"
    assert re.search(r"\| compute / 3\.14t uvicorn w1 t8 \| 1→[\d.]+, 2→[\d.]+, 3→[\d.]+, 4→", md)


@pytest.mark.slow
def test_smoke_shaped_run_renders_without_optional_sections(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", smoke_like())
    paths = rewrite_report(run_dir)
    md = paths.markdown.read_text()
    assert {p.name for p in paths.charts} == {"throughput.png", "latency.png", "memory.png", "forest-json.png"}
    assert "No sweep in this run" in md
    assert "no microbench in this run" in md
    assert "Invalid cells: none." in md
    text = render_terminal(load_analysis(run_dir))
    assert "json      uvicorn  8" in text and "claims: C1 not measured" in text


def test_verdict_paragraph_speaks_per_scenario() -> None:
    a = analyse(parse_run(make_run()))
    text = verdict_paragraph(a)
    assert text.startswith("**json**: 3.14t is ")
    assert "× faster (95% CI" in text and "more memory than 3.14" in text
    assert "against 3.14 with 2 processes it is" in text
    assert "**gil-trap**: the GIL came back on in 3.14t (enabled by _lab_trap_ext)" in text
    assert "no speedup here can exceed 2×" in text and "4 invalid cell(s) are excluded" in text


def test_invalid_repeats_are_never_averaged() -> None:
    doc = make_run(microbench=False)
    run = parse_run(doc)
    crashed = next(c for c in doc["cells"] if not c["valid"] and c["invalid_reason"] == "server crashed (exit -9)")
    cfg = next(c for c in summarize_configs(run) if c.config_id == crashed["config_id"])
    assert cfg.n_valid == 2 and 0.4 not in cfg.rps_values
    assert cfg.invalid == ((crashed["id"], "server crashed (exit -9)"),)


def test_headline_prefers_the_default_configuration_not_the_fastest() -> None:
    heads = {(h.scenario, h.server): h for h in analyse(parse_run(make_run(microbench=False))).headlines}
    h = heads[("json", "uvicorn")]
    assert h.users == 8 and h.candidate.python_gil_env is None


def test_all_cells_invalid_does_not_crash(tmp_path: Path) -> None:
    doc = smoke_like()
    for c in doc["cells"]:
        c.update(valid=False, invalid_reason="server failed: address in use", rps=None)
    paths = rewrite_report(write_run(tmp_path / "run", doc))
    md = paths.markdown.read_text()
    assert "no valid 3.14t/3.14 pair to compare" in md and "server failed: address in use" in md
    assert paths.charts == ()


@pytest.mark.slow
def test_microbench_error_and_missing_fields_are_tolerated(tmp_path: Path) -> None:
    doc = smoke_like()
    doc["microbench"] = {"error": "microbench worker on /x/python3.14t exited with status 1"}
    del doc["machine"]["cpu_model"]
    doc["cells"][0].pop("latency_ms")
    paths = rewrite_report(write_run(tmp_path / "run", doc))
    md = paths.markdown.read_text()
    assert "microbenchmark failed: microbench worker on /x/python3.14t exited with status 1" in md


def test_unknown_schema_and_missing_run_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="does not exist"):
        rewrite_report(tmp_path / "nothing")
    doc = smoke_like()
    doc["schema_version"] = 99
    with pytest.raises(ResultsError, match="schema_version 99, newer than this lab reads"):
        rewrite_report(write_run(tmp_path / "run", doc))


@pytest.mark.slow
def test_html_escapes_cell_text(tmp_path: Path) -> None:
    doc = smoke_like()
    doc["cells"][0].update(valid=False, invalid_reason="<script>alert(1)</script>")
    html = rewrite_report(write_run(tmp_path / "run", doc)).html.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- CLI ------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_command_prints_paths(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", smoke_like())
    result = CliRunner().invoke(cli_report.report, [str(run_dir), "--slo-ms", "300", "--target-rps", "50"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(run_dir / "report.html"), str(run_dir / "report.md")]
    assert "p95 vs SLO 300 ms" in (run_dir / "report.md").read_text()


def test_report_command_turns_lab_errors_into_exit_1(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{not json")
    result = CliRunner().invoke(cli_report.report, [str(tmp_path / "run")])
    assert result.exit_code == 1 and "error: " in result.output and "not valid JSON" in result.output


@pytest.mark.slow
def test_report_writes_reports_and_the_terminal_summary_reads_the_same_analysis(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", make_run(microbench=False))
    rewrite_report(run_dir, 500, None)
    assert (run_dir / "report.html").is_file() and (run_dir / "report.md").is_file()
    assert (run_dir / "summary.json").is_file()
    text = render_terminal(load_analysis(run_dir))
    assert text.startswith("run 20261125T120301Z-default-3f2a (default), 2 usable core(s)")
    assert "ratio (95% CI)" in text and "claims: C1 not measured" in text


def test_threads_command_options_are_validated() -> None:
    result = CliRunner().invoke(cli_report.threads, ["--threads", "1,x"])
    assert result.exit_code == 1 and "--threads takes comma-separated integers" in result.output
    result = CliRunner().invoke(cli_report.threads, ["--workloads", "numpy"])
    assert result.exit_code == 1 and "unknown microbench workload" in result.output


def test_commands_are_exported_for_the_group() -> None:
    assert [c.name for c in cli_report.COMMANDS] == ["report", "history", "diff", "threads"]
    json.dumps([c.name for c in cli_report.COMMANDS])


@pytest.mark.slow
def test_report_without_a_run_dir_rebuilds_the_newest_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_RESULTS_DIR", str(tmp_path))
    older = write_run(tmp_path / "20261101T000000Z-smoke-aaaa", make_run(microbench=False))
    newer = write_run(tmp_path / "20261102T000000Z-smoke-bbbb", make_run(microbench=False))
    (tmp_path / "serve").mkdir()  # `gil-lab serve` logs live here too: not a run
    result = CliRunner().invoke(cli_report.report, [])
    assert result.exit_code == 0, result.output
    assert str(newer / "report.html") in result.output
    assert (newer / "report.html").is_file() and not (older / "report.html").exists()


def test_report_without_any_run_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_RESULTS_DIR", str(tmp_path))
    result = CliRunner().invoke(cli_report.report, [])
    assert result.exit_code == 1
    assert "run `make compare` first" in result.output


@pytest.mark.slow
def test_a_real_capacity_run_draws_its_curves(tmp_path: Path) -> None:
    """A real `gil-lab capacity --scenario json --servers uvicorn` run, whose steps with no miss once gave a share
    interval starting at 1e-17 (above the share itself, which the chart refused to draw)."""
    stored = Path(__file__).parents[1] / "fixtures" / "run-json" / "v9" / "capacity-fit.json"
    run_dir = tmp_path / "capacity"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(stored.read_text())
    paths = rewrite_report(run_dir)
    assert "capacity-curve.png" in {p.name for p in paths.charts}
    assert "capacity ratio" in paths.markdown.read_text()
