"""GIL trap: the json workload behind a route module that imports a GIL-requiring extension.

``GET /trap/json`` does exactly the CPU work of the built-in ``GET /json/synthetic``
(the same function, ``app.workloads.json_work.process``, on the same document). The
only difference is that this module imports ``gil_lab_trap`` when it loads: a C
extension with no ``Py_mod_gil`` slot (``scenarios/gil_trap_ext/gil_lab_trap.c``). On
3.14t that import turns the GIL back on for the whole server, with nothing but a
RuntimeWarning in the log (claim C5). Point a server at this directory
(``LAB_ROUTES_DIR`` / ``--routes scenarios/gil_trap_routes``) to see what that costs,
and ``gil-lab audit`` to see who did it.

The extension is built per interpreter outside the repository; ``LAB_TRAP_EXT_DIR``
names the directory holding it (the gil-trap preset sets it for its servers).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

from fastapi import APIRouter, Query

from app.loadspec import LoadRequest
from app.workloads import json_work
from app.workloads.json_work import Parser, Summary

_EXT_DIR = os.environ.get("LAB_TRAP_EXT_DIR", "")
_BUILD_HINT = (
    "gil_lab_trap is not built for this interpreter, or LAB_TRAP_EXT_DIR does not point at it. Build it and "
    "export its directory: export LAB_TRAP_EXT_DIR=$(.venv/bin/python -m loadtests.provision.gil_trap .envs/app-ft/bin/python)"
)
if _EXT_DIR and _EXT_DIR not in sys.path:
    sys.path.append(_EXT_DIR)
try:
    import gil_lab_trap  # noqa: E402 - the point of this module: re-enables the GIL on 3.14t
except ImportError as error:
    raise ImportError(f"{_BUILD_HINT} (LAB_TRAP_EXT_DIR={_EXT_DIR!r}: {error})", name="gil_lab_trap") from error

router = APIRouter(prefix="/trap", tags=["gil trap (drop-in)"])


@router.get("/json")
def trap_json(
    records: Annotated[int, Query(ge=1, le=json_work.RECORDS_MAX)] = json_work.RECORDS_DEFAULT,
    rounds: Annotated[int, Query(ge=1, le=json_work.ROUNDS_MAX)] = json_work.ROUNDS_DEFAULT,
    parser: Parser = "json",
) -> Summary:
    """``GET /json/synthetic``'s pipeline, served from a module that imported ``gil_lab_trap``."""
    return json_work.process(json_work.synthetic_document(records), parser, rounds)


@router.get("/spin")
def trap_spin(n: Annotated[int, Query(ge=0, le=10**9)] = 1_000) -> dict[str, int]:
    """Call into the extension itself: ``gil_lab_trap.spin(n)``."""
    return {"n": n, "state": gil_lab_trap.spin(n)}


LOAD = [LoadRequest(path="/trap/json", name="GET /trap/json")]
