"""``--expect no-races``: a CI gate on the safety checks (docs/ci.md, docs/safety.md).

    no-races              no endpoint and no test with a race
    no-races@responses    no endpoint whose answers went wrong under concurrency
    no-races@tests        no test that failed, crashed or hung only in threads

A race is an endpoint classified wrong-without-gil or wrong-under-concurrency, or a
test classified fails-parallel-ft-only or fails-parallel-both, or one that crashed or
hung in a parallel pass only. This module only parses; ``analysis/safety_gate.py``
judges a run's summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loadtests.results.expectation import ExpectationError

Scope = Literal["all", "responses", "tests"]
NO_RACES = "no-races"
FORM = "no-races, no-races@responses or no-races@tests"


@dataclass(frozen=True)
class SafetyExpectation:
    text: str
    scope: Scope = "all"


def parse_safety_expectation(text: str) -> SafetyExpectation | None:
    """The expression as a safety expectation; None when it is not one (a ratio expression, say)."""
    compact = "".join(text.split()).lower()
    if not compact.startswith(NO_RACES):
        return None
    rest = compact[len(NO_RACES):]
    scopes: dict[str, Scope] = {"": "all", "@responses": "responses", "@tests": "tests"}
    if rest not in scopes:
        raise ExpectationError(f"--expect {text!r}: a safety expectation reads {FORM} (docs/ci.md)")
    return SafetyExpectation(text.strip(), scopes[rest])
