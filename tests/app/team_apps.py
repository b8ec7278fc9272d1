"""Stand-ins for a team's own service, written to a temporary directory as real packages.

The package is called ``app`` on purpose: the lab's own package has that name too, and
the team's must win wherever ``LAB_APP_DIR`` points.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

#: A plain Starlette app: sync and async endpoints, a class endpoint, a mount, a websocket and a lifespan.
STARLETTE = """
import contextlib

import anyio.to_thread
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute

TEAM = "starlette"
EVENTS = []


@contextlib.asynccontextmanager
async def lifespan(app):
    EVENTS.append("startup")
    app.state.limit_at_startup = anyio.to_thread.current_default_thread_limiter().total_tokens
    yield
    EVENTS.append("shutdown")


async def hello(request):
    return JSONResponse({"team": TEAM, "path": request.url.path, "events": EVENTS,
                         "limit_at_startup": request.app.state.limit_at_startup})


def total(request):
    return JSONResponse({"total": sum(range(int(request.query_params.get("n", "1000"))))})


class Items(HTTPEndpoint):
    async def get(self, request):
        return JSONResponse(["a", "b"])

    async def post(self, request):
        return JSONResponse(await request.json())


async def echo(websocket):
    await websocket.accept()
    await websocket.send_text("echo:" + await websocket.receive_text())
    await websocket.close()


app = Starlette(
    routes=[
        Route("/hello", hello),
        Route("/total", total),
        WebSocketRoute("/ws", echo),
        Mount("/api", routes=[Route("/items", Items)]),
    ],
    lifespan=lifespan,
)
"""

#: A FastAPI app with a declared body model (parsed on the event loop) and an async CPU endpoint.
FASTAPI = """
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Order(BaseModel):
    sku: str
    qty: int


@app.post("/orders")
def create(order: Order) -> dict:
    return {"sku": order.sku, "qty": order.qty}


@app.get("/spin")
async def spin(n: int = 1000) -> dict:
    return {"total": sum(range(n))}
"""

#: A bare ASGI 3 callable: no framework, no route table.
RAW = """
EVENTS = []


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                EVENTS.append("startup")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                EVENTS.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = ("raw:" + scope["path"]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""


def write_team_app(directory: Path, main: str, package: str = "app", init: str = "") -> Path:
    """``directory/<package>/main.py`` holding ``main``; returns ``directory`` (the LAB_APP_DIR)."""
    root = directory / package
    root.mkdir(parents=True, exist_ok=True)
    (root / "__init__.py").write_text(textwrap.dedent(init))
    (root / "main.py").write_text(textwrap.dedent(main))
    return directory

#: A service that runs its queries in its own ThreadPoolExecutor (the kernel names those threads
#: ``ThreadPoolExecu``), with one endpoint whose threads write one shared dict and one that keeps to locals.
POOLED = """
import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

app = FastAPI()
POOL = ThreadPoolExecutor(max_workers=3)
SHARED = {}
ROUNDS = 20_000


def query(n):
    return sum(range(n))


@app.get("/report")
async def report():
    futures = [POOL.submit(query, 1000) for _ in range(3)]
    return {"total": sum(f.result() for f in futures), "loop": threading.get_native_id()}


@app.get("/shared")
def shared():
    table = SHARED
    for i in range(ROUNDS):
        table[i & 7] = i
    return {"n": len(table)}


@app.get("/local")
def local():
    table = {}
    for i in range(ROUNDS):
        table[i & 7] = i
    return {"n": len(table)}
"""
