"""card.py and forest.py: the summary card per scenario that opens the report.

Runs: the paired smoke fixture (schema 3, PSS), runs measured before pairing (the
schema-1 fixtures and the synthetic default-preset run), each with and without
capacity figures and diagnosis lines built by hand.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import KIND_PROCESSES
from loadtests.analysis.figures.diagnosis import Finding, ScenarioDiagnosis
from loadtests.analysis.run_analysis import analyse
from loadtests.report import charts
from loadtests.report.build import build_report
from loadtests.report.card import forest_rows, scenario_comparisons
from loadtests.report.document import Bullets, Card, Chart, Paragraph
from loadtests.report.forest import ForestRow, fluid_svg, forest_chart
from loadtests.results.records import CapacitySummary
from loadtests.results.store import load_run, parse_run
from loadtests.workflow.reports import load_analysis
from loadtests.workflow.reports import report as rewrite_report
from tests.fixtures.synthetic_runs import make_run, write_run
from tests.report.capacity_inputs import capacity_at_slo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"
PAIRED = FIXTURES / "v3" / "smoke-paired.json"
NOT_MEASURED = "not measured in this run (run `gil-lab capacity`)"
NOT_DIAGNOSED = "**Why it scales or not**: not diagnosed in this run."


def _cards(doc) -> dict[str, Card]:  # noqa: ANN001
    assert doc.summary is not None and doc.summary.id == "summary"
    return {b.title: b for b in doc.summary.blocks if isinstance(b, Card)}


def _text(card: Card) -> str:
    out = []
    for b in card.blocks:
        if isinstance(b, Paragraph):
            out.append(b.text)
        elif isinstance(b, Bullets):
            out.extend(b.items)
        elif isinstance(b, Chart):
            out.append(b.caption)
    return "\n".join(out)


def _forest(card: Card) -> Chart | None:
    return next((b for b in card.blocks if isinstance(b, Chart)), None)


def _with(a: Analysis, capacity: tuple[CapacitySummary, ...] | None = None, diagnosed: bool = True) -> Analysis:
    """``a`` with the capacity figures given, and without its diagnosis unless ``diagnosed``."""
    summary = a.summary if capacity is None else replace(a.summary, capacity=capacity)
    return replace(a, summary=summary, diagnoses=a.diagnoses if diagnosed else ())


def _copy_fixture(src: Path, tmp_path: Path) -> Path:
    run_dir = tmp_path / src.stem
    run_dir.mkdir()
    shutil.copyfile(src, run_dir / "run.json")
    return run_dir


# --- a paired run ---------------------------------------------------------------------------


@pytest.mark.slow
def test_paired_card_gives_verdict_forest_and_pss_and_says_what_is_missing() -> None:
    a = analyse(load_run(PAIRED))
    card = _cards(build_report(a))["json"]
    text = _text(card)
    assert card.id == "card-json" and card.tone == "stay"
    # the decision first: one process each, no measurable difference, so nothing to gain by moving
    assert text.startswith("**Stay on one 3.14 process on uvicorn**: 3.14t on uvicorn is no faster (ratio 1.02×, "
                           "95% CI 0.22–4.73).")
    assert ("speed (neither way): 3.14t on uvicorn at 8 users against one 3.14 process on uvicorn: not "
            "significantly different (ratio 1.02×, 95% CI 0.22–4.73), efficiency 0.47 of the 2.18× ideal") in text
    assert "**What would change the answer**:\na measurable gain: the interval 0.22–4.73 holds 1" in text
    assert "uvicorn: one 3.14t process 280 MB, one 3.14 process 182 MB (3.14t +54%)" in text
    assert "peak PSS of each server" in text
    assert f"**Capacity at p95 < 500 ms**: {NOT_MEASURED}." in text
    # The run's own diagnosis fills the card: one line per finding, its server first.
    assert NOT_DIAGNOSED not in text and "**Why it scales or not**:\nuvicorn: " in text
    forest = _forest(card)
    assert forest is not None and forest.id == "chart-forest-json" and forest.png == "charts/forest-json.png"
    root = forest.svg.split(">", 1)[0]
    assert "viewBox=" in root and "width=" not in root and 'class="forest"' in root
    assert "<!-- ratio, 3.14t ÷ baseline throughput (×, log scale) -->" in forest.svg  # the axis, with its unit
    (row,) = forest_rows(scenario_comparisons(a, "json"))
    head = a.comparisons[0]
    assert row == ForestRow("uvicorn vs 3.14", head.speedup.ratio, head.speedup.low, head.speedup.high, head.ideal)
    assert row.ideal is not None and round(row.ideal, 2) == 2.18


@pytest.mark.slow
def test_capacity_and_diagnosis_fill_the_card_when_given() -> None:
    a = analyse(load_run(PAIRED))
    capacity = (
        capacity_at_slo("json", "uvicorn", "3.14t", "3.14t uvicorn w1 t8", 41.5, 39.0, 44.0, 412.0, 20.7, 148.2),
        capacity_at_slo("json", "uvicorn", "3.14", "3.14 uvicorn ×2 proc", 180.0, 170.0, 190.0, 380.4, 90.0, 1020.0),
        capacity_at_slo("json", "uvicorn", "3.14", "3.14 uvicorn w1 t8", None, None, 5.0, None, None, None),
        capacity_at_slo("compute", "uvicorn", "3.14t", "3.14t uvicorn w1 t8", 9.0, 8.0, 10.0, 300.0, 4.5, 30.0),
    )
    diagnosis = (ScenarioDiagnosis("json", "uvicorn", (
        Finding("event-loop", "a serial section on the event loop", "the loop thread was busy 0.91 of the time", ""),
        Finding("waiting", "room to gain", "3.14 used 0.92 cores", ""))),)
    text = _text(_cards(build_report(replace(_with(a, capacity), diagnoses=diagnosis)))["json"])
    assert "**Capacity at p95 < 500 ms**: the highest arrival rate whose p95 stayed under the SLO" in text
    assert ("3.14t uvicorn w1 t8: **41.5 rps** (between 39.0 and 44.0), p95 412 ms near it, 20.7 rps per core, "
            "148 rps per GB of PSS") in text
    assert "3.14 uvicorn ×2 proc: **180 rps** (between 170 and 190), p95 380 ms near it" in text
    assert "3.14 uvicorn w1 t8: no rate tried kept p95 under the SLO (the lowest rate tried was 5.0 rps)" in text
    assert "9.0 rps" not in text  # another scenario's figure stays on its own card
    assert NOT_MEASURED not in text and NOT_DIAGNOSED not in text
    assert "**Why it scales or not**:\nuvicorn: a serial section on the event loop. the loop thread was busy" in text
    assert "uvicorn: room to gain. 3.14 used 0.92 cores" in text


def test_a_capacity_without_a_failing_rate_above_it_is_a_lower_bound() -> None:
    a = analyse(load_run(PAIRED))
    capacity = (
        capacity_at_slo("json", "uvicorn", "3.14", "3.14 uvicorn ×2 proc", 22.5, 22.5, None, 248.0, 18.4, 164.0),
        capacity_at_slo("json", "uvicorn", "3.14t", "3.14t uvicorn w1 t8", 12.0, 12.0, 18.0, 400.0, 10.0, 150.0,
                        limited_by="the load generator did not keep its schedule"),
    )
    text = _text(_cards(build_report(_with(a, capacity)))["json"])
    assert "3.14 uvicorn ×2 proc: **at least 22.5 rps** (no rate tried failed)" in text
    # an invalid window inside a known bracket leaves the bracket standing
    assert "3.14t uvicorn w1 t8: **12.0 rps** (between 12.0 and 18.0; an invalid window stopped the search)" in text


def test_a_fitted_capacity_is_an_estimate_with_its_interval_and_the_rates_tested_around_it() -> None:
    a = analyse(load_run(PAIRED))
    capacity = (capacity_at_slo("json", "uvicorn", "3.14t", "3.14t uvicorn w1 t8", 13.1, 12.4, 14.2, 410.0, 6.5, 90.0,
                                ci=(11.8, 14.6)),
                capacity_at_slo("json", "uvicorn", "3.14", "3.14 uvicorn w1 t8", 6.2, 5.9, 7.0, 420.0, 6.2, 80.0,
                                ci=(5.5, None)))
    text = _text(_cards(build_report(_with(a, capacity)))["json"])
    assert "estimated from every step of each search: the 95% CI is its statistical uncertainty" in text
    assert "3.14t uvicorn w1 t8: **about 13.1 rps** (95% CI 11.8–14.6; rates tested 12.4 and 14.2)" in text
    assert "3.14 uvicorn w1 t8: **about 6.2 rps** (no bounded interval; rates tested 5.9 and 7.0)" in text


def test_the_capacity_heading_follows_the_slo() -> None:
    a = analyse(load_run(PAIRED), slo_ms=250)
    assert f"**Capacity at p95 < 250 ms**: {NOT_MEASURED}." in _text(_cards(build_report(a))["json"])


# --- runs measured before pairing ---------------------------------------------------------


@pytest.mark.parametrize("name, cards", [("default-lite", ["image", "json"]), ("gil-trap", ["json", "trap"]),
                                         ("smoke", ["json"])])
@pytest.mark.slow
def test_every_schema_1_fixture_gets_a_card_per_scenario(tmp_path: Path, name: str, cards: list[str]) -> None:
    run_dir = _copy_fixture(FIXTURES / "v1" / f"{name}.json", tmp_path)
    paths = rewrite_report(run_dir)
    md, html = paths.markdown.read_text(), paths.html.read_text()
    assert re.findall(r"^### (.+)$", md.split("## 1 Verdict")[0], re.M) == cards
    assert md.index("## The decision, per scenario") < md.index("## 1 Verdict")
    assert html.index('<section id="summary" class="summary">') < html.index("<nav") < html.index("<main>")
    for c in cards:
        assert re.search(f'<article class="card[^"]*" id="card-{c}">\n<h3>{c}</h3>', html), c
    doc = build_report(_with(load_analysis(run_dir), diagnosed=False))
    for card in _cards(doc).values():
        text = _text(card)
        assert NOT_MEASURED in text and NOT_DIAGNOSED in text
        if _forest(card) is not None:  # no interval with one repeat a side: the card says so, the plot too
            assert text.startswith("**Not yet**: one pair cannot tell 3.14t") and "(n=1, no interval)" in text
            assert "peak RSS of each server, all its processes together (this run did not sample PSS)" in text


@pytest.mark.slow
def test_default_lite_compares_against_the_n_process_baseline() -> None:
    a = analyse(load_run(FIXTURES / "v1" / "default-lite.json"))
    sc = scenario_comparisons(a, "json")
    rows = forest_rows(sc)
    assert [r.label for r in rows] == ["granian vs 3.14", "uvicorn vs 3.14", "uvicorn vs 3.14 × 2 processes"]
    assert [r.against_processes for r in rows] == [False, False, True]
    assert all(r.low is None and r.high is None for r in rows)
    procs = next(c for c in sc.against_processes if c.kind == KIND_PROCESSES)
    assert procs.baseline.server_cpu_cores is not None
    assert rows[2].ideal == pytest.approx(procs.candidate.cores_in_use(2) / procs.baseline.server_cpu_cores.mean)
    text = _text(_cards(build_report(a))["json"])
    assert "uvicorn: one 3.14t process 205 MB, one 3.14 process 122 MB (3.14t +68%), 3.14 × 2 processes 274 MB" \
           " (3.14t -25%)" in text


def test_a_gil_incident_card_says_why_there_is_no_comparison() -> None:
    card = _cards(build_report(analyse(load_run(FIXTURES / "v1" / "gil-trap.json"))))["trap"]
    text = _text(card)
    assert card.tone == "not-yet" and _forest(card) is None
    assert text.startswith("**Not yet**: the GIL came back on in 3.14t, enabled by gil_lab_trap, so no valid "
                           "3.14t/3.14 pair was measured.")
    assert "GIL (blocks moving): came back on in 3.14t, enabled by gil_lab_trap" in text
    assert "**The GIL came back on in 3.14t** (enabled by gil_lab_trap)" in text
    assert "granian refused to start" in text and "**Memory**" not in text


@pytest.mark.slow
def test_synthetic_run_cards_classify_each_scenario() -> None:
    a = analyse(parse_run(make_run()))
    cards = _cards(build_report(a))
    assert list(cards) == ["json", "compute", "image", "async", "gil-trap"]
    assert {k: c.tone for k, c in cards.items()} == {"json": "stay", "compute": "stay", "image": "stay",
                                                       "async": "stay", "gil-trap": "not-yet"}
    json_text = _text(cards["json"])
    # 3.14t is 1.77× faster than one 3.14 process, but the card leads with what the team would otherwise run
    assert json_text.startswith("**Stay on 3.14 × 2 processes on uvicorn**: it served 1.12× as much as 3.14t on "
                                "granian (ratio 0.89×, 95% CI 0.85–0.94).")
    assert ("speed (for moving): 3.14t on uvicorn at 8 users against one 3.14 process on uvicorn: 1.77× faster "
            "(95% CI 1.69–1.86), efficiency 0.90 of the 1.98× ideal") in json_text
    assert ("speed (against moving): 3.14t on uvicorn at 8 users against 3.14 × 2 processes on uvicorn: 1.14× slower "
            "(ratio 0.88×, 95% CI 0.85–0.91)") in json_text
    assert "memory mattering more than throughput: 3.14t needs 42% less than 3.14 × 2 processes on uvicorn" \
           in json_text
    assert "efficiency" not in _text(cards["async"])  # the async reference is not CPU-bound work in threads
    rows = forest_rows(scenario_comparisons(a, "json"))
    assert [r.label for r in rows] == ["uvicorn vs 3.14", "uvicorn vs 3.14 × 2 processes", "granian vs 3.14",
                                       "granian vs 3.14 × 2 processes"]


@pytest.mark.slow
def test_a_mixed_verdict_names_each_server() -> None:
    a = analyse(parse_run(make_run(scenarios=("image",), users=(8,), trap=False, gil_toggle=False, microbench=False,
                                   invalid_crash=False)))
    _, other = scenario_comparisons(a, "image").heads
    # one server's interval now straddles 1: the verdict must not speak for both servers
    straddling = replace(other, speedup=replace(other.speedup, ratio=1.01, low=0.9, high=1.1))
    # without a decision (a capacity run has none), the card opens with the verdict in words
    mixed = replace(a, headlines=tuple(straddling if c is other else c for c in a.headlines), decisions=())
    card = _cards(build_report(mixed))["image"]
    assert card.tone == "mixed" and _text(card).startswith("**It depends on the server.**")


# --- the report stands alone ----------------------------------------------------------------


@pytest.mark.slow
def test_the_report_cites_nothing_the_reader_does_not_have(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", make_run())
    paths = rewrite_report(run_dir)
    html, md = paths.html.read_text(), paths.markdown.read_text()
    for text in (html, md):
        assert "DESIGN" not in text and not re.search(r"\bissues?\s*#?\d", text, re.I)
        assert "docs/" not in text and ".md" not in text.replace("report.md", "")
    for link in re.findall(r"\]\(([^)]+)\)", md):  # every image the Markdown shows is in the run directory
        assert (run_dir / link).is_file(), link
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    for href in re.findall(r'href="([^"]+)"', html):
        assert href.startswith("#") and href[1:] in ids, href


# --- the forest plot ------------------------------------------------------------------------


def test_forest_plot_marks_one_the_ceiling_and_every_interval() -> None:
    rows = [ForestRow("granian vs 3.14", 1.93, 1.34, 3.39, 2.08),
            ForestRow("granian vs 3.14 × 16 processes", 0.87, 0.72, 1.09, 1.05, against_processes=True),
            ForestRow("uvicorn vs 3.14", 1.76, 1.54, math.inf, 2.1),
            ForestRow("uvicorn vs 3.14 × 16 processes", 1.2, None, None, None, against_processes=True)]
    fig = forest_chart(rows, 16)
    assert fig is not None
    try:
        (ax,) = fig.axes
        assert ax.get_xscale() == "log" and ax.get_xlabel() == "ratio, 3.14t ÷ baseline throughput (×, log scale)"
        verticals = {round(float(line.get_xdata()[0]), 2) for line in ax.lines
                     if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2}
        assert {1.0, 16.0, 2.08, 1.05, 2.1} <= verticals  # 1×, the usable cores and each pair's ideal
        lo, hi = ax.get_xlim()
        assert lo < 0.72 and hi > 16
        labels = [t.get_text() for t in ax.texts]
        assert labels == ["granian vs 3.14: 1.93× (1.34–3.39)", "granian vs 3.14 × 16 processes: 0.87× (0.72–1.09)",
                          "uvicorn vs 3.14: 1.76× (1.54–∞)", "uvicorn vs 3.14 × 16 processes: 1.20× (no interval)"]
        fig.canvas.draw()
        box = fig.bbox
        for t in [*ax.texts, *fig.legends[0].get_texts(), ax.xaxis.label]:  # nothing is cut off at the edges
            ext = t.get_window_extent()
            assert ext.x0 >= box.x0 and ext.x1 <= box.x1 and ext.y0 >= box.y0 and ext.y1 <= box.y1, t.get_text()
        assert fig.get_figwidth() <= 4.2  # a phone's width at 1:1, so its 9 pt text stays readable
    finally:
        charts.close(fig)
    assert forest_chart([], 2) is None


@pytest.mark.parametrize("low, high", [(0.07, 11.89), (0.9, 1.1), (0.01, 300.0), (0.22, 4.73)])
@pytest.mark.slow
def test_forest_tick_labels_never_collide(low: float, high: float) -> None:
    fig = forest_chart([ForestRow("uvicorn vs 3.14", 0.92, low, high, 2.25)], 2)
    assert fig is not None
    try:
        (ax,) = fig.axes
        fig.canvas.draw()
        ticks = list(ax.get_xticks())
        assert 1.0 in ticks and 3 <= len(ticks) <= 6, ticks
        boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
        assert all(a.x1 + 2 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False)), ticks
        assert boxes[0].x0 >= fig.bbox.x0 and boxes[-1].x1 <= fig.bbox.x1, ticks  # none cut off at the edges
    finally:
        charts.close(fig)


def test_fluid_svg_keeps_only_the_view_box() -> None:
    fig = forest_chart([ForestRow("uvicorn vs 3.14", 1.5, 1.2, 1.9, 2.0)], 2)
    assert fig is not None
    try:
        svg = charts.to_svg(fig, "t")
    finally:
        charts.close(fig)
    assert re.match(r'<svg [^>]*width="[\d.]+pt" height="[\d.]+pt"', svg)
    out = fluid_svg(svg, "forest")
    root = out.split(">", 1)[0]
    assert 'class="forest"' in root and "viewBox=" in root and "width" not in root and "height" not in root
    assert out.split(">", 1)[1] == svg.split(">", 1)[1]  # only the root changed
    with pytest.raises(ValueError, match="width, height and a viewBox"):
        fluid_svg('<svg viewBox="0 0 1 1"></svg>')


@pytest.mark.slow
def test_a_capacity_run_gets_its_capacities_on_its_card(tmp_path: Path) -> None:
    run_dir = _copy_fixture(FIXTURES / "v4" / "capacity-workers.json", tmp_path)
    md = rewrite_report(run_dir).markdown.read_text()
    summary = load_analysis(run_dir).summary
    card = md.split("## 1 Verdict")[0]
    assert "**A capacity run**: it measured the highest arrival rate" in card
    for entry in summary.capacity:  # every configuration's capacity, a lower bound when nothing above it failed
        assert f"{entry.configuration}: **" in card
    assert "No valid 3.14t/3.14 pair" not in card
