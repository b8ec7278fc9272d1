"""One profile window's samples summed by cause, innermost function and kind of thread, per request."""

from __future__ import annotations

from loadtests.core.native_causes import Frame
from loadtests.measure.native_causes import attribute
from loadtests.measure.native_profile import NativeSample


def stack(*names: str) -> tuple[Frame, ...]:
    return tuple(Frame(n, "python3.14t", False) for n in names)


def test_shares_and_cpu_per_request_add_up() -> None:
    samples = [NativeSample(1, "AnyIO worker th", 0.0, stack("_Py_DecRefShared", "_PyEval_EvalFrameDefault"))] * 3 + \
              [NativeSample(2, "python", 0.0, stack("_PyEval_EvalFrameDefault"))]
    found = attribute(samples, frequency_hz=100, requests=2, kinds={1: "anyio-worker", 2: "event-loop"})
    shared = next(c for c in found.causes if c.cause == "refcount-shared")
    assert (shared.samples, shared.share, shared.cpu_ms_per_request) == (3, 0.75, 15.0)
    assert [(t.kind, t.samples) for t in found.threads] == [("anyio-worker", 3), ("event-loop", 1)]
    assert found.functions[0].function == "_Py_DecRefShared" and found.functions[0].cause == "refcount-shared"
