"""Native samples sorted into causes, by the interpreter's own symbols, and summed per request.

Each sample gets one cause, the first rule that matches, in this order:

1. ``gc``: a frame anywhere on the stack stops the world or collects garbage
   (``_PyEval_StopTheWorld*``, ``_PyGC_*``, the free-threaded collector's ``gc_*``);
2. ``locks``: a frame anywhere on the stack waits for or takes a lock the slow way
   (``_PyMutex_*``, ``_PyParkingLot_*``, ``_PySemaphore_*``, critical sections' slow
   paths, pthread mutexes and condition variables, futex in the kernel);
3. ``refcount-shared``: the innermost function (inlined ones included) counts
   references on an object another thread owns or shares: the atomic slow paths
   ``_Py_DecRefShared*``, ``_Py_TryIncRefShared``, ``_Py_MergeZeroLocalRefcount``,
   ``_Py_brc_*`` (biased reference counting's queue), ``_Py_ExplicitMergeRefcount``;
4. ``allocator``: allocating or freeing memory (mimalloc ``mi_*``/``_mi_*``,
   ``_PyObject_Mi*``, ``PyObject_Malloc``/``Free``, free lists, ``_Py_Dealloc``, malloc);
5. ``refcount``: the innermost function is inlined reference counting on the owner's
   fast path (``Py_INCREF``, ``Py_DECREF``, ``PyStackRef_DUP``/``CLOSE``, ``_Py_NewRef``);
6. ``eval``: the bytecode interpreter itself (``_PyEval_EvalFrameDefault`` and what the
   compiler inlined into it that no rule above names);
7. ``extension:<library>``: code of an extension module, named by its library;
8. ``kernel``: system calls, I/O, scheduling; ``libc``: the C library (memcpy, ...);
9. ``interpreter``: the rest of the interpreter's C code (objects, calls, dicts, ints,
   strings); ``unknown``: frames perf could not name.

Much of the shared reference counting is inlined into the eval loop (the atomic add of
an incref on a shared object has no call of its own), and a contended cache line often
stalls the instruction after the one that touched it, so the ``refcount-shared`` share is
a lower bound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """One native frame, innermost first; an inlined function is its own frame at its caller's address."""

    function: str
    library: str  # the binary: the interpreter, [kernel], libc.so.6, or a package's file (uvloop/loop….so)
    inlined: bool


CAUSES = ("refcount-shared", "refcount", "locks", "gc", "allocator", "eval", "extension", "kernel", "libc",
          "interpreter", "unknown")
TITLES = {
    "refcount-shared": "reference counting on shared objects (atomic slow paths)",
    "refcount": "reference counting, inlined fast path",
    "locks": "locks: mutexes, the parking lot, critical sections",
    "gc": "stop-the-world pauses and garbage collection",
    "allocator": "memory allocation and freeing (mimalloc, free lists)",
    "eval": "the bytecode interpreter (eval loop)",
    "extension": "extension modules' own code",
    "kernel": "the kernel: system calls, I/O, scheduling",
    "libc": "the C library",
    "interpreter": "the interpreter's other C code (objects, calls, dicts, numbers, strings)",
    "unknown": "frames perf could not name",
}
_GC = re.compile(r"^(_PyEval_StopTheWorld|stop_the_world|start_the_world|_PyGC_|gc_collect|gc_visit|"
                 r"_Py_RunGC|gc_mark|gc_scan|deduce_unreachable|update_refs|mark_heap|validate_refcounts)")
_LOCKS = re.compile(r"^(_PyMutex_|PyMutex_|_PyParkingLot_|_PySemaphore_|_PyRawMutex_|_PyCriticalSection\w*Slow|"
                    r"_PyRWMutex_|_PyRecursiveMutex_|_PyOnceFlag|pthread_mutex_|pthread_cond_|__pthread_mutex|"
                    r"__lll_lock|futex_|do_futex|__futex|sem_wait|sem_timedwait)")
_SHARED = re.compile(r"^(_Py_DecRefShared|_Py_TryIncRefShared|_Py_IncRefShared|_Py_MergeZeroLocalRefcount|"
                     r"_Py_brc_|_Py_ExplicitMergeRefcount|_Py_DecRefSharedDebug|_Py_DecRefSharedIsDead|"
                     r"merge_queued_objects|_Py_TryIncrefCompare|_Py_TryXGetRef|_Py_TryIncRefSharedImpl)")
_ALLOCATOR = re.compile(r"^(mi_|_mi_|_PyObject_Mi|_PyMem_Mi|PyObject_Malloc|PyObject_Free|PyObject_Realloc|"
                        r"PyObject_Calloc|_PyObject_Malloc|_PyObject_Free|PyMem_|_PyMem_|_PyFreeList_|_Py_Dealloc|"
                        r"PyObject_GC_Del|_PyObject_GC_New|gc_alloc|malloc|free|cfree|calloc|realloc|_int_malloc|"
                        r"_int_free|__libc_malloc|__libc_free|new_reference|_Py_NewReference|\w+_dealloc$)")
_REFCOUNT = re.compile(r"^(Py_INCREF|Py_DECREF|Py_XINCREF|Py_XDECREF|_Py_INCREF|_Py_DECREF|Py_NewRef|Py_XNewRef|"
                       r"_Py_NewRef|_Py_XNewRef|PyStackRef_DUP|PyStackRef_CLOSE|PyStackRef_XCLOSE|"
                       r"PyStackRef_FromPyObjectNew|_Py_IsOwnedByCurrentThread|_Py_ThreadId|Py_CLEAR|"
                       r"_Py_atomic_add_ssize|_Py_IncRef|_Py_DecRef|Py_IncRef|Py_DecRef)")
_EVAL = re.compile(r"^(_PyEval_EvalFrameDefault|_PyEval_EvalFrame|_PyEval_Vector)$")
_INTERPRETER = re.compile(r"^(python3?\.?\d*t?|libpython.*\.so.*)$")
_LIBC = re.compile(r"^(libc|libm|libpthread|ld-linux)[.-]")


def library_name(library: str) -> str:
    """The package an extension belongs to: ``pydantic_core/_pydantic_core.cpython-314t-….so`` ->
    ``pydantic_core``; a file outside any package by its own name (``_cffi_backend``)."""
    top = library.split("/", 1)[0] if "/" in library else library
    return top.split(".cpython-")[0].split(".abi3")[0].split(".so")[0]


def _inline_chain(frames: Sequence[Frame]) -> list[Frame]:
    """The innermost frame and the inlined functions around it, up to the real function that holds them."""
    chain = []
    for frame in frames:
        chain.append(frame)
        if not frame.inlined:
            break
    return chain


def classify(frames: Sequence[Frame]) -> str:
    """The cause of one sample's stack (innermost frame first); see the module docstring."""
    if not frames:
        return "unknown"
    if any(_GC.match(f.function) and _INTERPRETER.match(f.library) for f in frames):
        return "gc"
    if any(_LOCKS.match(f.function) for f in frames):
        return "locks"
    chain = _inline_chain(frames)
    names = [f.function for f in chain]
    if any(_SHARED.match(n) for n in names):
        return "refcount-shared"
    if any(_ALLOCATOR.match(n) for n in names):
        return "allocator"
    if any(_REFCOUNT.match(n) for n in names):
        return "refcount"
    real = chain[-1]
    if real.library in ("[unknown]", "") or (real.function == "[unknown]" and _INTERPRETER.match(real.library)):
        return "unknown"
    if real.library == "[kernel]":
        return "kernel"
    if _LIBC.match(real.library):
        return "libc"
    if _INTERPRETER.match(real.library):
        return "eval" if _EVAL.match(real.function) else "interpreter"
    return f"extension:{library_name(real.library)}"


def cause_family(cause: str) -> str:
    """``extension:_pydantic_core`` -> ``extension``; the others are their own family."""
    return cause.split(":", 1)[0]


def title(cause: str) -> str:
    family = cause_family(cause)
    if family == "extension" and ":" in cause:
        return f"extension code: {cause.split(':', 1)[1]}"
    return TITLES.get(family, cause)


# --- frames in folded stacks -----------------------------------------------------------------------------

_SUFFIX = re.compile(r"^(?P<function>.*) \[(?P<where>[^\[\]]+)\]$")


def folded_name(frame: Frame) -> str:
    """A frame as a folded stack names it: the interpreter's functions bare, others with where they live
    (``do_syscall_64 [kernel]``, ``memcpy [libc]``, ``validate [pydantic_core]``)."""
    name = frame.function.replace(";", ":")
    if _INTERPRETER.match(frame.library) or frame.library in ("[unknown]", ""):
        return name
    if frame.library == "[kernel]":
        return f"{name} [kernel]"
    if _LIBC.match(frame.library):
        return f"{name} [libc]"
    return f"{name} [{library_name(frame.library)}]"


def frame_cause(name: str) -> str:
    """The cause one folded frame's own name belongs to (a flame graph's colour)."""
    found = _SUFFIX.match(name)
    if found is None:
        return classify((Frame(name, "[unknown]" if name == "[unknown]" else "python", False),))
    where = found["where"]
    library = "[kernel]" if where == "kernel" else "libc.so.6" if where == "libc" else where
    return classify((Frame(found["function"], library, False),))
