"""``gil-lab``: the command group. Each command lives in a module beside this one.

Errors the lab expects are printed as one clear message with a remedy and exit
status 1 (``errors.py``); usage errors exit 2; every option's environment variable is
shown in ``--help``.
"""

from __future__ import annotations

import signal

import click

from loadtests.cli import (
    audit_command,
    clean_command,
    gate_commands,
    report_commands,
    run_commands,
    safety_command,
    worker_command,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gil-lab")
def main() -> None:
    """gil-lab: measure whether CPU-bound ASGI endpoints get faster on free-threaded 3.14t.

    Typical use: `make compare` (or `gil-lab compare`), then open results/<run-id>/report.html.
    """
    # `kill PID` must tear down like Ctrl-C: unwind every context manager, so no server or
    # Locust process this command started outlives it. SIGINT is set too, because a shell
    # starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


for _command in (*run_commands.COMMANDS, *safety_command.COMMANDS, *report_commands.COMMANDS, *gate_commands.COMMANDS,
                 audit_command.audit,
                 clean_command.clean, worker_command.worker):
    main.add_command(_command)
