"""How the servers load their modules: from bytecode the lab compiled, or from source.

On 3.14t a module-level constant is immortal when its module is loaded from a ``.pyc``
and an ordinary reference-counted object when the module is compiled from source at
start-up; a non-immortal object that many threads read has its reference count written
by all of them. So the bytecode state is a hidden variable of every 3.14t figure. The
lab compiles what the servers import into a cache prefix of its own before measuring
(or, asked to, leaves the libraries and the app to be compiled from source), gives
every server that prefix with ``PYTHONDONTWRITEBYTECODE=1`` (so nothing a server does
changes the state), and records both here; each server reports which of its modules
came from bytecode (``RuntimeSnapshot.bytecode``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from loadtests.results.record import Record, doc

#: What a run asks for: the libraries and the app compiled first, or compiled from source at each start.
BytecodeMode = Literal["compiled", "source"]
BYTECODE_MODES: tuple[BytecodeMode, ...] = ("compiled", "source")


@dataclass(frozen=True)
class CompiledTree(Record):
    """One directory tree compiled into the cache prefix before the servers started."""

    kind: str = doc("stdlib, site-packages, app (the lab's), routes (drop-in routes) or team app.")
    path: str = doc("The tree's directory (its source is never written to).")
    files: int = doc("Python source files in it (the standard library's tests left out).")
    compiled: int = doc("Of those, compiled by this run (missing or stale in the prefix before).")
    failed: int = doc("Files that could not be compiled (a syntax error, an unreadable file): they load from "
                      "source if they are imported.")
    seconds: float = doc("Time the tree took, checking and compiling.")


@dataclass(frozen=True)
class BytecodeState(Record):
    """The bytecode state of one interpreter's servers (run.json's ``bytecode``, by interpreter label)."""

    state: Literal["compiled", "source", "unknown"] = doc(
        "compiled: the standard library, the app environment's site-packages and the app's modules were "
        "compiled for this interpreter first, so the servers load them from bytecode; source: only the "
        "standard library was, and the libraries and the app are compiled from source at every start "
        "(`--bytecode source`, what `PYTHONDONTWRITEBYTECODE=1` or a read-only tree gives a deployment); "
        "unknown: not controlled (an --app-url app, or a run recorded before the lab controlled it).")
    cache_prefix: str | None = doc("PYTHONPYCACHEPREFIX every server of this interpreter ran with: the lab's own "
                                   "bytecode cache, so no tree of the app or its environments is written to.")
    dont_write_bytecode: bool = doc("Whether the servers ran with PYTHONDONTWRITEBYTECODE=1 (always, when the lab "
                                    "controls the state: a server cannot change it by writing).")
    trees: tuple[CompiledTree, ...] = doc("What was compiled into the prefix, tree by tree.")
    seconds: float = doc("Time the whole step took before the first server started.")
    shell: Mapping[str, str] = doc("The bytecode variables (PYTHONDONTWRITEBYTECODE, PYTHONPYCACHEPREFIX) the "
                                   "lab's own environment had: they never reach the servers, whose values are "
                                   "the two keys above.")

    @property
    def controlled(self) -> bool:
        return self.state != "unknown"


#: The state of an interpreter the lab did not control.
UNKNOWN_BYTECODE = BytecodeState(state="unknown", cache_prefix=None, dont_write_bytecode=False, trees=(),
                                 seconds=0.0, shell={})


@dataclass(frozen=True)
class ModuleBytecode(Record):
    """What a server process says of its own modules: how many came from bytecode, which from source."""

    pycache_prefix: str | None = doc("sys.pycache_prefix inside the server.")
    dont_write_bytecode: bool = doc("sys.flags.dont_write_bytecode inside the server.")
    from_bytecode: int = doc("Modules with a source file whose valid .pyc was there to load.")
    from_source: int = doc("Modules with a source file and no valid .pyc: compiled from source at import.")
    source_modules: tuple[str, ...] = doc("The first of those by name (at most 20).")
