"""The exit statuses of every ``gil-lab`` command, defined once (docs/ci.md has the table).

CI tells a regression from a broken lab by the status alone: 10 means the lab measured
and the figures fall short, 11 that what was compared holds invalid cells, 1 that the
lab could not answer at all. 2 is click's own usage-error status, named here so the
table is complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitStatus(IntEnum):
    """What a command's exit status means."""

    PASS = 0  # done; every gate passed
    LAB_ERROR = 1  # the lab's own error (a LabError): set-up, a bad run directory, a comparison missing after a run
    USAGE_ERROR = 2  # a usage error, found by click before anything runs: a bad flag or --expect expression
    FAILED = 10  # a regression (diff --fail-above) or a failed expectation (--expect)
    INVALID = 11  # invalid cells in what was compared, and nothing failed outright
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


#: When several gates end differently, the command exits with the first of these that
#: occurred: a measured failure says more than an invalid comparison, which says more
#: than one the run does not hold.
PRECEDENCE = (ExitStatus.FAILED, ExitStatus.INVALID, ExitStatus.LAB_ERROR)


def combined(statuses: Iterable[ExitStatus]) -> ExitStatus:
    """The status of a command that evaluated several gates (PASS when there were none)."""
    seen = set(statuses)
    return next((s for s in PRECEDENCE if s in seen), ExitStatus.PASS)
