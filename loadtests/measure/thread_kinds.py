"""What each thread of a server is, as its layer says (``GET /lab/threads``), never guessed from its name.

The kernel keeps 15 characters of a thread's name: an application's own
``ThreadPoolExecutor-0_N`` threads all read ``ThreadPoolExecu``, and uvicorn's event
loop runs on a thread named after the program. The layer inside the server knows which
threads ran an ASGI call (the event loops), which are anyio's workers and which belong
to a ``concurrent.futures`` pool; the lab asks it after each window. An app served
without the lab's layer, or an older layer, answers 404: then nothing is known, and the
diagnosis says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

from loadtests.measure.runtime import NOT_ANSWERING, fetch_json

THREADS_PATH = "/lab/threads"
KINDS = ("event-loop", "anyio-worker", "executor", "python", "native")
#: Said of a thread the layer did not describe.
UNKNOWN = "unknown"


def fetch_kinds(base_url: str, timeout: float = 5.0) -> dict[int, str]:
    """``{tid: kind}`` of the process that answers; empty when the layer does not say."""
    try:
        body = fetch_json(base_url.rstrip("/") + THREADS_PATH, timeout)
    except NOT_ANSWERING:  # a 404 (no layer, an older one) included
        return {}
    threads = body.get("threads") if isinstance(body, dict) else None
    if not isinstance(threads, list):
        return {}
    return {int(t["tid"]): str(t["kind"]) for t in threads
            if isinstance(t, dict) and isinstance(t.get("tid"), int) and t.get("kind") in KINDS}


def kind_of(tid: int, kinds: Mapping[int, str]) -> str:
    return kinds.get(tid, UNKNOWN)
