"""decision_text.py and faults_text.py: the decision, crashes, hangs and the soak as the report and terminal say them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadtests.analysis import analyse
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.report.decision_text import decision_blocks, terminal_decision
from loadtests.report.document import Bullets, Code, Paragraph, ReportDoc, Section, Table
from loadtests.report.faults_text import SHOWN_LINES, fault_blocks, soak_blocks, terminal_fault_lines
from loadtests.report.html import render_html
from loadtests.report.markdown import render_markdown
from loadtests.report.terminal import render_terminal
from loadtests.results.records.safety import CrashSummary, HangSummary, SafetySummary
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run


@pytest.fixture(scope="module")
def synthetic() -> Analysis:
    return analyse(parse_run(make_run()))


def test_the_terminal_ends_with_each_decision_and_what_blocks_it(synthetic: Analysis) -> None:
    text = render_terminal(synthetic)
    tail = text[text.index("The decision, per scenario"):]
    assert "\njson: Stay on 3.14 × 2 processes on uvicorn: it served 1.12× as much as 3.14t on granian" in tail
    assert "  would change it: 3.14t serving 1.12× what it does now" in tail
    assert ("gil-trap: Not yet: the GIL came back on in 3.14t, enabled by _lab_trap_ext, so no valid 3.14t/3.14 "
            "pair was measured.\n  - GIL (blocks moving): came back on in 3.14t, enabled by _lab_trap_ext") in tail
    assert "3.14t is" not in tail  # the paragraph of speed words gave way to the decisions


def test_a_card_opens_with_the_decision_its_evidence_and_what_would_change_it(synthetic: Analysis) -> None:
    decision = synthetic.decision("json")
    assert decision is not None
    lead, evidence, heading, change = decision_blocks(decision)
    assert isinstance(lead, Paragraph) and lead.text.startswith("**Stay on 3.14 × 2 processes on uvicorn**: it served")
    assert isinstance(evidence, Bullets) and evidence.items[0].startswith("speed (for moving): 3.14t on uvicorn")
    assert isinstance(heading, Paragraph) and isinstance(change, Bullets) and len(change.items) == 2
    assert terminal_decision(decision)[0] == f"json: {decision.sentence}"


def faulty(a: Analysis) -> Analysis:
    """``a`` with a crash, a hang and a soak's growth, as the analysis would have found them."""
    crash = CrashSummary(interpreter="3.14t", where="3.14t uvicorn w1 t8", cell="c1", endpoints=("GET /crash",),
                         fatal="Fatal Python error: Segmentation fault",
                         traceback="Fatal Python error: Segmentation fault\n" + "  frame\n" * (SHOWN_LINES + 5))
    hang = HangSummary(interpreter="3.14", where="soak", cell=None, endpoints=("GET /orders/{order_id}",), bound_s=1.0,
                       stacks=("Thread 0x1 [AnyIO worker] (most recent call first):\n  File \"m.py\", line 9 in order",
                               "Current thread 0x2 [python] (most recent call first):\n  File \"u.py\", line 1"))
    safety = SafetySummary(app="shop.main:app", responses=(), tests=(), crashes=(crash,), hangs=(hang,))
    memory = tuple(MemoryGrowth(interpreter=label, measure="RssAnon", requests=12000, slope_mb_per_1000=slope,
                                ci_low=low, ci_high=high, grows=low > 0, plateau_s=40.0, plateau_mb=80.0, end_mb=140.0,
                                threads_start=13, threads_end=13, readings=((1.0, 60.0), (40.0, 80.0), (120.0, 140.0)),
                                fitted=((40.0, 80.0), (120.0, 140.0)))
                   for label, slope, low, high in (("3.14", 0.1, -0.4, 0.6), ("3.14t", 5.2, 5.0, 5.4)))
    return replace(a, summary=replace(a.summary, safety=safety), memory=memory)


def test_crashes_hangs_and_the_soak_are_told_with_their_traceback_stacks_and_growth(synthetic: Analysis) -> None:
    a = faulty(synthetic)
    crash_head, traceback, hang_head, stacks = fault_blocks(a)
    assert isinstance(crash_head, Paragraph) and crash_head.text == (
        "**Crash** 3.14t in a window of 3.14t uvicorn w1 t8: Fatal Python error: Segmentation fault, with GET /crash "
        "in flight.")
    assert isinstance(traceback, Code) and traceback.text.endswith("... 6 more lines in run.json")
    assert isinstance(hang_head, Paragraph) and hang_head.text.startswith(
        "**Hang** 3.14 during the soak: GET /orders/{order_id} in flight for longer than 1 s, 2 threads")
    assert isinstance(stacks, Code) and "line 9 in order" in stacks.text
    paragraph, table = soak_blocks(a, None)
    assert isinstance(table, Table) and table.rows[1][3:5] == ("+5.20 (+5.00 to +5.40)", "yes")
    assert table.rows[0][3:5] == ("+0.10 (-0.40 to +0.60)", "no")
    lines = terminal_fault_lines(a)
    assert lines[0].startswith("crash: 3.14t in a window") and lines[1].startswith("hang: 3.14 during the soak")
    assert lines[3] == ("memory under the soak: 3.14t grows: +5.20 MB per 1,000 requests after the plateau at 40s "
                        "(95% CI +5.00 to +5.40; RssAnon 80.0 → 140.0 MB over 12000 requests; threads 13 → 13)")


def test_a_traceback_renders_as_a_fixed_width_block_in_both_formats() -> None:
    doc = ReportDoc("t", "s", (Section("x", "X", (Code("a < b\n  frame", "every thread"),)),))
    assert "<pre><code>a &lt; b\n  frame</code></pre>" in render_html(doc)
    assert "*every thread*\n\n```text\na < b\n  frame\n```" in render_markdown(doc)
