"""The races service's HTTP API (FastAPI): each endpoint calls one of the racy modules.

    GET  /greeting?name=Ada   {"greeting": "Hello, Ada!", "ticket": 1234567, "bytes": 4194368}
    POST /visits              {"visit": 17}    the number of this visit
    GET  /visits              {"count": 17}    every visit so far
    GET  /health              {"status": "ok"}

Every handler is a plain ``def``, so the framework runs it in its thread pool, where
3.14t runs requests in parallel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query

from . import greetings, visits, work

app = FastAPI(title="races", version="1.0")


@app.get("/greeting")
def greeting(name: Annotated[str, Query(min_length=1, max_length=40)]) -> dict[str, object]:
    number = work.ticket(name, rounds=2_000)
    page = greetings.render(name)
    return {"greeting": page[: greetings.HEADER].rstrip().decode(), "ticket": number, "bytes": len(page)}


@app.post("/visits")
def visit() -> dict[str, int]:
    work.ticket("visit")
    return {"visit": visits.record()}


@app.get("/visits")
def count() -> dict[str, int]:
    return {"count": visits.total()}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
