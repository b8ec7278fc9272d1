"""Flame graphs as static SVG: widths are shares, callers below callees, causes as colours, no script."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from loadtests.report.flamegraph import COLOURS, parse_folded, render

NS = "{http://www.w3.org/2000/svg}"
STACKS = parse_folded([
    "anyio-worker;thread_run;_PyEval_EvalFrameDefault;_Py_DecRefShared 30\n",
    "anyio-worker;thread_run;_PyEval_EvalFrameDefault 50\n",
    "event-loop;epoll_wait [kernel] 20\n",
    "not a stack line\n",
])


def frames(svg: str) -> dict[str, tuple[float, float, str]]:
    """name -> (x, width, fill) of every drawn frame, from its hover title."""
    out = {}
    for group in ET.fromstring(svg).iter(f"{NS}g"):
        title, rect = group.find(f"{NS}title"), group.find(f"{NS}rect")
        assert title is not None and rect is not None and title.text is not None
        out[title.text.split(":")[0]] = (float(rect.get("x", 0)), float(rect.get("width", 0)), rect.get("fill", ""))
    return out


def test_each_frame_is_as_wide_as_its_share_and_says_it_on_hover() -> None:
    svg = render(STACKS, "compute, 3.14t")
    drawn = frames(svg)
    assert set(drawn) == {"anyio-worker", "thread_run", "_PyEval_EvalFrameDefault", "_Py_DecRefShared",
                          "event-loop", "epoll_wait [kernel]"}
    assert drawn["anyio-worker"][1] == 4 * drawn["event-loop"][1]
    assert drawn["_Py_DecRefShared"][1] * 80 == drawn["thread_run"][1] * 30
    assert "_Py_DecRefShared: 30 samples, 30.0%" in svg
    assert "<script" not in svg and "onmouseover" not in svg


def test_colours_follow_the_cause_of_the_frames_own_name() -> None:
    drawn = frames(render(STACKS, "t"))

    def rgb(fill: str) -> tuple[int, ...]:
        return tuple(int(v) for v in re.findall(r"\d+", fill))

    def near(fill: str, cause: str) -> bool:
        return all(abs(a - b) <= 12 for a, b in zip(rgb(fill), COLOURS[cause], strict=True))

    assert near(drawn["_Py_DecRefShared"][2], "refcount-shared")
    assert near(drawn["epoll_wait [kernel]"][2], "kernel")
    assert near(drawn["_PyEval_EvalFrameDefault"][2], "eval")


def test_an_empty_profile_says_so() -> None:
    assert "no samples" in render({}, "nothing")
