"""Run one `gil-lab` command in this process and log the result files it writes and reads, in order.

    python tests/e2e/file_reads.py LOG gil-lab-arguments...

An audit hook (PEP 578) sees every ``open`` and every rename the command makes,
whatever code makes it: the log gets ``wrote PATH`` when a file named run.json,
summary.json or history.sqlite is moved into place (atomic writes end with a rename)
and ``read PATH`` when one of them is opened for reading. The servers and Locust run
in their own processes and never touch these files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

WATCHED = {"run.json", "summary.json"}


def _reads(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return "r" in mode or "+" in mode
    return isinstance(flags, int) and flags & os.O_ACCMODE in (os.O_RDONLY, os.O_RDWR)


def main() -> None:
    log = open(sys.argv[1], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the whole command

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and isinstance(args[0], (str, os.PathLike)) and Path(args[0]).name in WATCHED:
            if _reads(args[1], args[2]):
                log.write(f"read {Path(args[0]).resolve()}\n")
        elif event == "os.rename" and isinstance(args[1], (str, os.PathLike)) and Path(args[1]).name in WATCHED:
            log.write(f"wrote {Path(args[1]).resolve()}\n")

    sys.addaudithook(hook)
    from loadtests.cli.main import main as gil_lab

    gil_lab(sys.argv[2:], prog_name="gil-lab")


if __name__ == "__main__":
    main()
