"""A worker script run by the interpreter under test, answering one JSON document on its last line of stdout.

The microbenchmark and the bytecode step both run a standard-library script inside the
bare app interpreters: every way that can fail (too slow, not startable, a non-zero exit,
no JSON) becomes the caller's error class with the worker's own last lines.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from loadtests.core.errors import LabError


def run_json_worker(command: Sequence[str], env: Mapping[str, str], timeout: float, what: str,
                    error: type[LabError]) -> Any:
    """Run ``command`` and return the JSON on its last stdout line; ``error`` says ``what`` failed, and how."""
    try:
        proc = subprocess.run(list(command), env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise error(f"{what} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise error(f"cannot run {command[0]}: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise error(f"{what} exited with status {proc.returncode}:\n{tail}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise error(f"{what} printed no JSON: {proc.stdout[-300:]!r}") from None
