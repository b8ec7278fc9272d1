"""Samples sorted into causes by the interpreter's own symbols, whole stack first, then the innermost frame."""

from __future__ import annotations

import pytest

from loadtests.core.native_causes import Frame, classify, folded_name, frame_cause, library_name, title

PY = "python3.14t"


def stack(*names: str, library: str = PY) -> tuple[Frame, ...]:
    """Innermost first; a trailing ``+`` marks an inlined function."""
    return tuple(Frame(n.rstrip("+"), library, n.endswith("+")) for n in names)


@pytest.mark.parametrize(("frames", "cause"), [
    (stack("_Py_TryIncRefShared+", "_Py_TryIncrefCompare+", "_PyEval_EvalFrameDefault"), "refcount-shared"),
    (stack("_Py_DecRefShared", "_PyEval_EvalFrameDefault"), "refcount-shared"),
    (stack("Py_DECREF+", "PyStackRef_CLOSE+", "_PyEval_EvalFrameDefault"), "refcount"),
    (stack("_Py_Dealloc", "_PyEval_EvalFrameDefault"), "allocator"),
    (stack("_mi_page_malloc+", "mi_heap_malloc_small_zero"), "allocator"),
    (stack("PyStackRef_Borrow+", "_PyEval_EvalFrameDefault"), "eval"),
    (stack("x_add", "_PyEval_EvalFrameDefault"), "interpreter"),
    (stack("[unknown]"), "unknown"),
    ((), "unknown"),
])
def test_the_innermost_frames_decide(frames: tuple[Frame, ...], cause: str) -> None:
    assert classify(frames) == cause


def test_a_lock_anywhere_on_the_stack_wins_over_the_kernel_leaf() -> None:
    frames = (Frame("futex_wait", "[kernel]", False), *stack("_PySemaphore_Wait", "_PyParkingLot_Park",
                                                              "_PyMutex_LockTimed", "insertdict"))
    assert classify(frames) == "locks"


def test_garbage_collection_wins_over_what_it_visits() -> None:
    assert classify(stack("dict_traverse", "gc_visit_heaps", "_PyGC_Collect")) == "gc"


def test_other_libraries_are_the_kernel_libc_or_an_extension_by_package() -> None:
    assert classify((Frame("do_syscall_64", "[kernel]", False),)) == "kernel"
    assert classify((Frame("__memmove_avx_unaligned_erms", "libc.so.6", False),)) == "libc"
    so = "pydantic_core/_pydantic_core.cpython-314t-x86_64-linux-gnu.so"
    assert classify((Frame("validate", so, False),)) == "extension:pydantic_core"
    assert library_name("_cffi_backend.cpython-314t-x86_64-linux-gnu.so") == "_cffi_backend"
    assert title("extension:pydantic_core") == "extension code: pydantic_core"


def test_a_folded_frame_keeps_where_it_lives_and_its_own_cause() -> None:
    so = "uvloop/loop.cpython-314t-x86_64-linux-gnu.so"
    names = [folded_name(f) for f in (Frame("uv__io_poll", so, False), Frame("do_syscall_64", "[kernel]", False),
                                       Frame("_Py_DecRefShared", PY, False), Frame("memcpy", "libc.so.6", False))]
    assert names == ["uv__io_poll [uvloop]", "do_syscall_64 [kernel]", "_Py_DecRefShared", "memcpy [libc]"]
    assert [frame_cause(n) for n in names] == ["extension:uvloop", "kernel", "refcount-shared", "libc"]


def test_a_frame_without_a_symbol_still_belongs_to_the_library_it_lives_in() -> None:
    stripped = Frame("[unknown]", "rapidfuzz/fuzz_cpp_avx2.cpython-314t-x86_64-linux-gnu.so", False)
    assert classify((stripped,)) == "extension:rapidfuzz" and folded_name(stripped) == "[unknown] [rapidfuzz]"
    assert classify((Frame("[unknown]", "[unknown]", False),)) == "unknown"
    assert library_name("libstdc++.so.6.0.30") == "libstdc++"
