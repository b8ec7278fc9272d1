"""``gil-lab worker``: join a lab master elsewhere as a Locust worker, session after session."""

from __future__ import annotations

from pathlib import Path

import click

from loadtests.cli.errors import lab_errors, progress
from loadtests.measure.remote_worker import DEFAULT_MASTER_TIMEOUT_S, WorkerSettings, parse_master, run_worker


@click.command()
@click.option("--master", "master", required=True, metavar="HOST[:PORT]", envvar="LAB_LOCUST_MASTER",
              show_envvar=True, help="The lab's Locust master: the address and port the run printed (`--locust-master-bind`, "
                   "`--locust-master-port`); port 5557 when none is given.")
@click.option("--master-timeout", type=click.FloatRange(1, 86400), default=DEFAULT_MASTER_TIMEOUT_S,
              show_default=True, envvar="LAB_MASTER_TIMEOUT", show_envvar=True,
              help="Stop once no master has been heard of for this many seconds (no heartbeat while connected, no "
                   "master on the port between sessions).")
@click.option("--locustfile", "locustfiles", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Run these files instead of the ones the master ships (repeatable); they must equal the master's "
                   "by content, or it refuses the worker.")
@click.option("--sessions", type=click.IntRange(1), help="Stop after this many sessions (default: until no master "
                                                          "comes).")
@lab_errors
def worker(master: str, master_timeout: float, locustfiles: tuple[str, ...], sessions: int | None) -> None:
    """Run a Locust worker, with the lab's recorder, for a lab master on another machine.

    The master ships what its session runs: the lab's recorder and the scenario's
    locustfile, so no scenario file is needed here. Before anything it ships is
    written or imported, the master must prove it knows the run's token (from
    LAB_LOCUST_TOKEN; the run prints it when it generates one): a process that
    cannot is refused and named, and the worker waits for the real master. The token
    itself stays in this process. After each session the worker waits for the next
    master on the same address. A worker whose Locust version, lab version or files
    differ from the master's is refused, and this command exits 1 with both values.
    """
    host, port = parse_master(master)
    settings = WorkerSettings(host, port, master_timeout, tuple(Path(f) for f in locustfiles), sessions)
    progress(f"gil-lab worker for the master at {host}:{port} (stops after {master_timeout:g}s without one)")
    run_worker(settings, progress)
