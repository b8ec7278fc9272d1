"""Fuzz the app's OpenAPI schema against a real uvicorn of each app environment.

Schemathesis generates valid and invalid requests from ``/openapi.json`` (query
parameters at and past their bounds, bodies that match the declared record schema
and bodies that do not) and the only property checked is the app's contract: bad
input is a 4xx, never a 5xx. It runs in the control plane; the servers run in
``.envs/app-gil`` and ``.envs/app-ft`` exactly as the lab starts them.

Budget: ``MAX_EXAMPLES`` generated cases per operation and environment keep the file
near a minute on 2 cores; the upper bounds of the size parameters cap the cost of
each request (about 2 s at worst).

It drives schemathesis through its Python API (``openapi.from_url`` and each
operation's Hypothesis strategy) rather than ``@schema.parametrize()``: the pytest
plugin of schemathesis 4.32 fails under pytest 9 (``'Function' object has no
attribute '_nodeid'``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode

from loadtests.measure.servers import RunningServer, ServerSettings, running_server
from loadtests.provision.envs import app_python

pytestmark = pytest.mark.slow

ENVS = ("app-gil", "app-ft")
#: Generated cases per operation, per mode (valid and invalid input), per environment.
MAX_EXAMPLES = 15
REQUEST_TIMEOUT_S = 60.0


@pytest.fixture(scope="module", params=ENVS)
def app_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real uvicorn per app environment, torn down with its process group."""
    python = app_python(request.param)
    if not python.exists():
        pytest.skip(f"{python} does not exist: run `make setup` to build the {request.param} environment")
    log: Path = tmp_path_factory.mktemp(request.param) / "server.log"
    with running_server(ServerSettings(python=python, threads=4), log) as server:
        yield server


def fuzz_operation(operation: Any, mode: GenerationMode, session: requests.Session) -> tuple[Counter[int], list[str]]:
    """Send MAX_EXAMPLES generated cases; tally statuses and describe every 5xx (no shrinking: see them all)."""
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: schemathesis.Case) -> None:
        response = case.call(session=session, timeout=REQUEST_TIMEOUT_S)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (Failure, FailureGroup) as error:
            failures.append(f"{response.status_code} {case.as_curl_command()}\n  {response.text[:300]}\n  {error}")

    send()
    return statuses, failures


def has_input(operation: Any) -> bool:
    """Whether the operation takes anything that could be made invalid (one without parameters takes nothing)."""
    parts = (operation.path_parameters, operation.headers, operation.cookies, operation.query, operation.body)
    return any(len(part) for part in parts)


def test_no_generated_input_makes_the_app_answer_5xx(app_server: RunningServer) -> None:
    schema = schemathesis.openapi.from_url(f"{app_server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # 7 built-in and 2 drop-in operations; /lab/* is the layer's, outside the app's schema.
    assert len(operations) >= 9, "the schema lost operations"
    totals: Counter[int] = Counter()
    failures: list[str] = []
    with requests.Session() as session:
        for operation in operations:
            modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if has_input(operation) else [])]
            for mode in modes:
                statuses, found = fuzz_operation(operation, mode, session)
                assert statuses, f"nothing was generated for {operation.label} ({mode})"
                totals.update(statuses)
                failures.extend(found)
    print(f"{app_server.settings.python}: {sum(totals.values())} requests, statuses {dict(sorted(totals.items()))}")
    assert app_server.exit_code() is None, f"the server died:\n{app_server.log_tail()}"
    assert not failures, f"{len(failures)} responses >= 500:\n" + "\n".join(failures)
