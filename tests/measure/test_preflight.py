"""preflight.py: which route serves a request, and when the preflight stops a run (no servers needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.core.errors import PreflightError
from loadtests.measure.preflight import judge, match_route, summary
from loadtests.results.records import Preflight, PreflightRequest, PreflightTask, RouteInfo

ROUTES = (RouteInfo("/books/{book_id}/similar", "http", ("GET",), "shop.similar", False, None),
          RouteInfo("/files/{rest:path}", "http", ("GET",), "shop.files", True, None),
          RouteInfo("/cart/quote", "http", ("POST",), "shop.quote", True, "Cart"),
          RouteInfo("/static", "mount", None, "StaticFiles", None, None),
          RouteInfo("/ws", "websocket", None, "shop.ws", True, None))


@pytest.mark.parametrize(("method", "path", "route"), [
    ("GET", "/books/42/similar", "/books/{book_id}/similar"),
    ("HEAD", "/books/42/similar", "/books/{book_id}/similar"),  # Starlette answers HEAD for GET routes
    ("GET", "/books/42/similar/more", None),
    ("GET", "/files/a/b/c.txt", "/files/{rest:path}"),
    ("POST", "/cart/quote", "/cart/quote"),
    ("GET", "/cart/quote", None),  # wrong method: no route serves it
    ("GET", "/static/app.css", "/static"),
    ("GET", "/ws", None),
])
def test_a_request_is_tied_to_the_route_that_serves_it(method: str, path: str, route: str | None) -> None:
    assert match_route(method, path, ROUTES) == route


def result(*requests: tuple[str, str, int | None], error: str | None = None) -> Preflight:
    tasks = tuple(PreflightTask("Shopper", f"task{i}", (PreflightRequest(m, p, p, status, None, None),), None)
                  for i, (m, p, status) in enumerate(requests))
    if error:
        tasks += (PreflightTask("Shopper", "broken", (), error),)
    return Preflight("3.14t", "uvicorn", tasks, 1.0)


def test_every_request_answered_404_stops_the_run_with_the_paths() -> None:
    with pytest.raises(PreflightError, match=r"every request of .*locustfile.py was answered 404 by shop:app on "
                                             r"3.14t \(GET /a, POST /b\).*--app"):
        judge([result(("GET", "/a", 404), ("POST", "/b", 404))], "shop:app", Path("locustfile.py"))


def test_tasks_that_send_nothing_stop_the_run_with_their_errors() -> None:
    with pytest.raises(PreflightError, match=r"sent no request.*Shopper.broken: KeyError: 'token'"):
        judge([result(error="KeyError: 'token'")], "shop:app", Path("locustfile.py"))


def test_some_failures_are_notes_not_errors() -> None:
    notes = judge([result(("GET", "/a", 200), ("GET", "/b", 404), ("GET", "/c", 500), error="ValueError: x")],
                  "shop:app", Path("locustfile.py"))
    assert notes == ["preflight on 3.14t: Shopper.task1: GET /b -> 404", "preflight on 3.14t: Shopper.task2: "
                     "GET /c -> 500", "preflight on 3.14t: Shopper.broken: ValueError: x"]
    assert summary(result(("GET", "/a", 200), ("GET", "/b", 404))) == "2 tasks, 2 requests: 200 ×1, 404 ×1"
