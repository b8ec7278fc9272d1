"""``gil-lab safety``: does the service still answer correctly when its requests really run in parallel?"""

from __future__ import annotations

import sys
from typing import Any

import click

from loadtests.cli.errors import lab_errors, progress
from loadtests.cli.options import (
    AnyExpectation,
    app_dir_option,
    app_option,
    expect_param,
    locustfile_option,
    pass_env_option,
    requirements_option,
    safety_gate,
    soak_option,
    split_expectations,
)
from loadtests.core.exit_status import ExitStatus, combined
from loadtests.report.safety_text import safety_text
from loadtests.results.records.safety import CheckFailure
from loadtests.safety.responses import DEFAULT_CONCURRENCY, DEFAULT_REQUESTS, DEFAULT_SEED
from loadtests.safety.suite import DEFAULT_ITERATIONS, DEFAULT_THREADS, DEFAULT_TIMEOUT_S, RERUNS
from loadtests.workflow.safety import SafetyRequest
from loadtests.workflow.safety import safety as safety_workflow


@click.command()
@app_option
@app_dir_option
@requirements_option
@locustfile_option
@pass_env_option
@click.option("--tests", metavar="PATH", envvar="LAB_TESTS", show_envvar=True,
              help="Your tests (a directory or file, as you give it to pytest), run with `python -m pytest` from "
                   "the app directory on 3.14 and 3.14t: plainly, then in threads with pytest-run-parallel.")
@click.option("--test-requirements", metavar="FILE", type=click.Path(dir_okay=False),
              envvar="LAB_TEST_REQUIREMENTS", show_envvar=True,
              help="What your tests need beyond the app's requirements (httpx for FastAPI's TestClient, pytest "
                   "plugins), installed in the tests environments only.")
@click.option("--safety-config", metavar="FILE", type=click.Path(dir_okay=False), envvar="LAB_SAFETY_CONFIG",
              show_envvar=True,
              help="Volatile fields and endpoints whose answers are not repeatable (docs/safety.md). Default: "
                   "gil-lab-safety.toml in the app directory, if there is one.")
@click.option("--out", "out_parent", type=click.Path(file_okay=False), envvar="LAB_RESULTS_DIR", show_envvar=True,
              help="Parent directory for the run directory (default: results/).")
@click.option("--users", type=click.IntRange(1, 256), default=DEFAULT_CONCURRENCY, show_default=True,
              help="Requests in flight at once in the arms that run in parallel (the load's concurrency).")
@click.option("--requests", type=click.IntRange(10, 100_000), default=DEFAULT_REQUESTS, show_default=True,
              help="Requests to record and replay to every arm.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Seed of `random` while your tasks are recorded, and of the reference's order.")
@click.option("--scenario", "scenarios", help="The lab's own app only: the scenarios whose requests to record, "
                                              "comma-separated (default: the default preset's).")
@click.option("--test-threads", type=click.IntRange(2, 64), default=DEFAULT_THREADS, show_default=True,
              help="pytest-run-parallel's --parallel-threads: each test runs in this many threads at once.")
@click.option("--iterations", type=click.IntRange(1, 1000), default=DEFAULT_ITERATIONS, show_default=True,
              help="pytest-run-parallel's --iterations: times each thread runs each test.")
@click.option("--test-timeout", type=click.FloatRange(1, 3600), default=DEFAULT_TIMEOUT_S, show_default=True,
              help="Seconds a test may run (in a pass) before it counts as hung: every thread's stack is dumped "
                   "and the suite goes on after it.")
@click.option("--no-responses", "responses", is_flag=True, flag_value=False, default=True,
              help="Skip the response check: run only the tests (--tests) and the soak (--soak).")
@soak_option
@expect_param()
@lab_errors
def safety(expectations: tuple[AnyExpectation, ...], **options: Any) -> None:
    """Check that your service answers correctly when requests really run in parallel, and run your tests in threads.

    \b
    Responses: the requests of your Locust file are recorded once (fixed seed), then sent to
    3.14t one at a time (the reference), to 3.14t with --users in flight and to 3.14 the same
    way; every answer is compared with the reference's (JSON path by path), and each endpoint
    is consistent, wrong only without the GIL, or wrong under any concurrency.
    Tests (--tests): pytest plainly and with pytest-run-parallel on both interpreters;
    each failing test re-runs {reruns} times; crashes and hangs are caught and the rest runs.

    Writes results/<run-id>/run.json and summary.json (its `safety` object) and prints
    the races with what to change. Exit 0 when the checks ran, 1 when one could not (the
    other still ran and is recorded); with --expect no-races, 10 when a race was found
    (docs/safety.md).
    """
    ratios, races = split_expectations(expectations)
    if ratios:
        raise click.BadParameter(f"{ratios[0].text!r} bounds a throughput ratio, which `gil-lab safety` does not "
                                 "measure: it takes no-races, no-races@responses or no-races@tests",
                                 param_hint="'--expect'")
    result = safety_workflow(SafetyRequest(**options), progress)
    safety = result.record.safety
    assert safety is not None
    click.echo(safety_text(safety, str(result.run_dir), result.analysis.memory), nl=False)
    could_not_run = any(isinstance(check, CheckFailure) for check in (safety.responses, safety.tests, safety.soak))
    status = combined([safety_gate(result.analysis.summary, races), ExitStatus.LAB_ERROR if could_not_run
                       else ExitStatus.PASS])
    if status != ExitStatus.PASS:
        sys.exit(status)


safety.help = (safety.help or "").replace("{reruns}", str(RERUNS))
COMMANDS = (safety,)
