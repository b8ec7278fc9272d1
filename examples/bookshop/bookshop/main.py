"""The bookshop's HTTP API.

Sync ``def`` endpoints run in the thread pool, where a free-threaded interpreter can
run them in parallel. ``POST /cart/quote`` is written the way many services are: an
``async def`` with a pydantic body. FastAPI parses and validates the body on the event
loop, and the pricing loop then runs on the event loop too, so that endpoint does not
scale with threads on any interpreter. ``python -m gil_lab_layer.inspect`` points it
out.
"""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from . import catalog

app = FastAPI(title="bookshop", version="1.0")
catalog.titles()  # build the catalogue at start-up, not in the first request


class Hit(BaseModel):
    id: int
    title: str
    score: float


class CartLine(BaseModel):
    book_id: int = Field(ge=1, le=catalog.BOOKS)
    quantity: int = Field(ge=1, le=100)


class Cart(BaseModel):
    lines: list[CartLine] = Field(min_length=1, max_length=200)
    coupon: str | None = Field(default=None, max_length=32)


class Quote(BaseModel):
    items: int
    subtotal_cents: int
    discount_cents: int
    total_cents: int


@app.get("/search")
def search(q: Annotated[str, Query(min_length=2, max_length=80)],
           limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Hit]:
    """Fuzzy title search over the whole catalogue (rapidfuzz, C++)."""
    hits = process.extract(q, catalog.titles(), scorer=fuzz.WRatio, limit=limit)
    return [Hit(id=index + 1, title=title, score=round(score, 2)) for title, score, index in hits]


@app.get("/books/{book_id}/similar")
def similar(book_id: int, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[int]:
    """Books sharing the most tags with this one (plain Python over the catalogue)."""
    anchor = catalog.book(book_id)
    if anchor is None:
        raise HTTPException(404, f"no book {book_id}")
    scored = sorted(
        ((len(anchor.tags & other.tags) / len(anchor.tags | other.tags), -abs(anchor.year - other.year), other.id)
         for other in catalog.books() if other.id != book_id),
        reverse=True,
    )
    return [other_id for _, _, other_id in scored[:limit]]


@app.get("/catalogue/export", response_class=PlainTextResponse)
def export(count: Annotated[int, Query(ge=1, le=5_000)] = 500) -> str:
    """The first ``count`` books as YAML (PyYAML's C emitter when libyaml is there)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    rows = [{"id": b.id, "title": b.title, "author": b.author, "year": b.year, "price_cents": b.price_cents,
             "tags": sorted(b.tags)} for b in catalog.books()[:count]]
    return yaml.dump(rows, Dumper=dumper, sort_keys=False)


@app.post("/cart/quote")
async def quote(cart: Cart) -> Quote:
    """Price a cart. CPU work in an ``async def``: it blocks the event loop while it runs."""
    subtotal = items = 0
    for line in cart.lines:
        book = catalog.book(line.book_id)
        assert book is not None  # the model bounds book_id
        subtotal += book.price_cents * line.quantity
        items += line.quantity
    # Loyalty points: a deliberately plain Python loop, the kind of work that hides in handlers.
    points = sum((i * 31 + subtotal) % 97 for i in range(400_000))
    discount = subtotal // 10 if (cart.coupon or "").upper() == "READMORE" else 0
    discount += min(points % 500, subtotal // 20)
    return Quote(items=items, subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
