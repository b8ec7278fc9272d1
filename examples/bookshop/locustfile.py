"""Load for the bookshop: browsers search and follow recommendations, buyers quote carts and export.

Run it against the service on its own:

    locust -f examples/bookshop/locustfile.py --host http://127.0.0.1:8000

It needs nothing from the service's package (Locust runs in its own environment).
"""

from __future__ import annotations

import random

from locust import HttpUser, between, task

QUERIES = ("silent river", "golden empire", "lost library", "the iron engine", "frozen harbour", "secret garden",
           "wild voyage", "crimson lantern", "glass mirror", "northern bridge")
BOOKS = 20_000


class Browser(HttpUser):
    """Most visitors: search, then look at similar books."""

    weight = 3
    wait_time = between(0.05, 0.2)

    @task(3)
    def search(self) -> None:
        self.client.get("/search", params={"q": random.choice(QUERIES), "limit": 10}, name="/search")

    @task(2)
    def similar(self) -> None:
        self.client.get(f"/books/{random.randint(1, BOOKS)}/similar", name="/books/[id]/similar")


class Buyer(HttpUser):
    """Fewer visitors: price a cart, now and then export part of the catalogue."""

    weight = 1
    wait_time = between(0.1, 0.3)

    @task(3)
    def quote(self) -> None:
        lines = [{"book_id": random.randint(1, BOOKS), "quantity": random.randint(1, 3)}
                 for _ in range(random.randint(1, 8))]
        self.client.post("/cart/quote", json={"lines": lines, "coupon": random.choice([None, "READMORE"])},
                         name="/cart/quote")

    @task(1)
    def export(self) -> None:
        self.client.get("/catalogue/export", params={"count": 300}, name="/catalogue/export")
