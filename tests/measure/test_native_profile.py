"""Reading perf's output back: samples, inlined frames, libraries, folded stacks; and perf's absence said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.core.native_causes import Frame, folded_name
from loadtests.measure import native_profile
from loadtests.measure.native_profile import NativeSample, folded, parse_script

SCRIPT = Path(__file__).parents[1] / "fixtures" / "perf" / "script-sample.txt"


def samples() -> list[NativeSample]:
    return list(parse_script(SCRIPT.read_text().splitlines(keepends=True)))


def test_every_sample_is_read_with_its_thread_and_time() -> None:
    found = samples()
    assert [(s.comm, s.tid) for s in found] == [("AnyIO worker th", 4377), ("AnyIO worker th", 4377),
                                                ("AnyIO worker th", 6680), ("AnyIO worker th", 6680),
                                                ("granian-worker", 4325)]
    assert found[0].time == pytest.approx(1631.779241)


def test_an_inlined_function_is_its_own_frame_in_its_callers_library() -> None:
    first = samples()[0].frames
    assert first[0] == Frame("_Py_RecursionLimit_GetMargin", "python3.14t", True)
    assert first[1] == Frame("_Py_Dealloc", "python3.14t", False)
    assert first[-1].function == "clone3" and first[-1].library == "libc.so.6"


def test_libraries_are_named_by_package_and_the_kernel_as_one() -> None:
    frames = samples()[-1].frames
    assert frames[0] == Frame("ep_start_scan", "[kernel]", False)
    assert Frame("uv__io_poll", "uvloop/loop.cpython-314t-x86_64-linux-gnu.so", False) in frames
    assert frames[-1].function == "[unknown]"


def test_folded_stacks_start_with_the_threads_kind_and_end_with_the_leaf() -> None:
    found = samples()
    stacks = folded(found, {4377: "anyio-worker"})
    first = "anyio-worker;" + ";".join(folded_name(f) for f in reversed(found[0].frames))
    assert first.split(";")[1:3] == ["clone3 [libc]", "start_thread [libc]"] and stacks[first] >= 1
    assert any(s.startswith("AnyIO worker th;") for s in stacks)  # a thread the layer did not describe: its OS name
    assert sum(stacks.values()) == 5


def test_without_perf_the_setup_says_so_and_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    setup = native_profile.setup()
    assert not setup.available and setup.reason == "perf is not installed"
    assert setup.remedy is not None and "linux-perf" in setup.remedy
    assert setup.unwinding == "dwarf" and setup.event == "cpu-clock"
