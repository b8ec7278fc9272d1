"""A team's own Starlette app served through the layer by every server the lab declares, as real processes.

These run in both app environments, so each server is covered on 3.14 and on 3.14t.
The server starts as the lab starts it for a team's app: from the app's directory,
with ``LAB_APP``/``LAB_APP_DIR`` set and the lab's repository off ``PYTHONPATH``.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from loadtests.core.servers import names, server_named

from .conftest import FREE_THREADED_BUILD
from .servers import get, get_json, running, wait_ready
from .team_apps import STARLETTE, write_team_app


@pytest.mark.parametrize("server", names())
def test_a_foreign_starlette_app_is_served_through_the_layer(server: str, tmp_path: Path) -> None:
    """Without LAB_SERVER the layer names the server from the program that started it (its workers included)."""
    app_dir = write_team_app(tmp_path, STARLETTE)
    env = {"LAB_APP": "app.main:app", "LAB_APP_DIR": str(app_dir), "LAB_THREADS": "3"}
    with running(server, env, cwd=app_dir, lab_on_path=False) as (url, process):
        runtime = wait_ready(url, process)
        assert runtime["free_threaded"] is FREE_THREADED_BUILD
        assert runtime["gil_enabled"] is not FREE_THREADED_BUILD  # the GIL stays off on 3.14t
        assert runtime["gil_enabled_by"] == []
        assert runtime["gilwatch_site_hook"] is True
        assert runtime["thread_limit"] == 3
        distribution = server_named(server).distribution
        assert runtime["server"] == {"name": server, "version": metadata.version(distribution)}
        assert runtime["app"] == {"target": "app.main:app", "dir": str(app_dir.resolve()),  # type: ignore[index]
                                  "framework": {"name": "starlette",
                                                "version": runtime["packages"]["starlette"]}}  # type: ignore[index]
        hello = get_json(url + "/hello")
        assert hello == {"team": "starlette", "path": "/hello", "events": ["startup"], "limit_at_startup": 3}
        assert get_json(url + "/total?n=100") == {"total": 4950}
        assert get_json(url + "/api/items") == ["a", "b"]
        assert get_json(url + "/lab/loads") == []
        status, body = get(url + "/lab/nothing")
        assert status == 404 and "/lab/runtime" in json.loads(body)["detail"]
