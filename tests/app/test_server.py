"""A real uvicorn process serves the built-in app through the layer on loopback, as the lab starts it."""

from __future__ import annotations

from app.workloads.compute_work import pure

from .servers import get_json, running, wait_ready


def test_uvicorn_serves_the_runtime() -> None:
    with running("uvicorn", {"LAB_THREADS": "4"}) as (url, process):
        runtime = wait_ready(url, process)
        assert runtime["pid"] == process.pid
        assert runtime["thread_limit"] == 4
        assert runtime["server"] == {"name": "uvicorn", "version": runtime["packages"]["uvicorn"]}  # type: ignore[index]
        assert runtime["gil_enabled"] is not runtime["free_threaded"]
        assert runtime["gil_enabled_by"] == []
        assert runtime["app"]["target"] == "app.main:app"  # type: ignore[index]
        assert get_json(url + "/compute/pure?n=1000") == {"n": 1000, "result": pure(1000)}
