"""Example drop-in route: price shopping baskets (pure-Python CPU work).

Copy this file to start your own. What makes it a good drop-in:

* ``router`` is an ``APIRouter``; the lab includes it as is (prefix and all).
* CPU-bound routes are sync ``def``, so FastAPI runs them in the thread pool, where
  a free-threaded interpreter can run them in parallel.
* ``LOAD`` says how to drive it: a weighted list of requests the generic Locust
  scenario sends, checked against ``router`` at start-up.

Load-test it on both interpreters with ``gil-lab compare --scenario orders``: the
scenario name is this file's name.

``POST /orders/quote`` takes a pydantic model as its body, as most services do:
FastAPI parses and validates that body *on the event loop*, a serial section even on
3.14t. It is small here; for large bodies prefer raw bytes parsed inside the route
(see ``app/builtin/json_routes.py``). FastAPI reads such a body whole, however large,
so the router caps it (``body_limited_route``): a basket of 500 lines fits in 64 KiB.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.body import body_limited_route
from app.loadspec import LoadRequest

#: Largest body POST /orders/quote reads; a larger one is refused with 413 before it is read whole.
QUOTE_BODY_MAX = 64 * 1024
router = APIRouter(prefix="/orders", tags=["orders (drop-in example)"], route_class=body_limited_route(QUOTE_BODY_MAX))

Category = Literal["food", "books", "electronics", "clothing", "other"]
CATEGORIES: tuple[Category, ...] = ("food", "books", "electronics", "clothing", "other")
#: VAT in basis points per country and category.
TAX_BP: dict[str, dict[str, int]] = {
    "DE": {"food": 700, "books": 700, "electronics": 1900, "clothing": 1900, "other": 1900},
    "FR": {"food": 550, "books": 550, "electronics": 2000, "clothing": 2000, "other": 2000},
    "NL": {"food": 900, "books": 900, "electronics": 2100, "clothing": 2100, "other": 2100},
    "US": {"food": 0, "books": 600, "electronics": 600, "clothing": 600, "other": 600},
}
COUNTRIES = tuple(TAX_BP)
#: (minimum units of one line, discount in basis points), best first.
VOLUME_TIERS = ((100, 1500), (50, 1000), (20, 500), (10, 200))
COUPONS = {"WELCOME10": 1000, "VIP20": 2000}
ORDERS_DEFAULT = 1_500
ORDERS_MAX = 20_000


class Line(BaseModel):
    sku: str = Field(min_length=1, max_length=32)
    qty: int = Field(ge=1, le=1_000)
    unit_cents: int = Field(ge=0, le=10_000_000)
    category: Category = "other"


class Basket(BaseModel):
    country: Literal["DE", "FR", "NL", "US"] = "DE"
    coupon: str | None = Field(default=None, max_length=32)
    lines: list[Line] = Field(min_length=1, max_length=500)


class Quote(BaseModel):
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int


class Summary(BaseModel):
    orders: int
    revenue_cents: int
    tax_cents: int
    average_cents: int
    largest_cents: int


def _bp(amount: int, basis_points: int) -> int:
    """``amount * bp / 10000`` rounded half to even, in integers (no float money)."""
    quotient, remainder = divmod(amount * basis_points, 10_000)
    if remainder * 2 > 10_000 or (remainder * 2 == 10_000 and quotient % 2):
        quotient += 1
    return quotient


def price(basket: Basket) -> Quote:
    """Volume discounts per line, a coupon, VAT by category, weight-banded shipping."""
    rates = TAX_BP[basket.country]
    coupon_bp = COUPONS.get((basket.coupon or "").upper(), 0)
    subtotal = discount = tax = units = 0
    for line in basket.lines:
        gross = line.qty * line.unit_cents
        tier_bp = next((bp for minimum, bp in VOLUME_TIERS if line.qty >= minimum), 0)
        off = _bp(gross, tier_bp) + _bp(gross - _bp(gross, tier_bp), coupon_bp)
        subtotal += gross
        discount += off
        tax += _bp(gross - off, rates[line.category])
        units += line.qty
    shipping = 0 if subtotal - discount >= 5_000 else 495 + 25 * min(units, 40)
    total = subtotal - discount + tax + shipping
    return Quote(
        subtotal_cents=subtotal, discount_cents=discount, tax_cents=tax, shipping_cents=shipping, total_cents=total
    )


def synthetic_baskets(count: int, seed: int) -> list[Basket]:
    """``count`` reproducible baskets from a small linear congruential generator."""
    state = seed or 1

    def draw(bound: int) -> int:
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (state >> 33) % bound

    baskets = []
    for _ in range(count):
        lines = [
            Line(
                sku=f"SKU{draw(10_000):05d}",
                qty=1 + draw(120),
                unit_cents=99 + draw(20_000),
                category=CATEGORIES[draw(len(CATEGORIES))],
            )
            for _ in range(1 + draw(12))
        ]
        coupon = ("WELCOME10", "VIP20", None, None)[draw(4)]
        baskets.append(Basket(country=COUNTRIES[draw(len(COUNTRIES))], coupon=coupon, lines=lines))
    return baskets


@router.post("/quote")
def quote(basket: Basket) -> Quote:
    """Price one basket."""
    return price(basket)


@router.get("/summary")
def summary(
    orders: Annotated[int, Query(ge=1, le=ORDERS_MAX, description="baskets to generate and price")] = ORDERS_DEFAULT,
    seed: Annotated[int, Query(ge=0, le=2**31)] = 1,
) -> Summary:
    """Generate ``orders`` baskets and price them all: the CPU-heavy endpoint."""
    quotes = [price(basket) for basket in synthetic_baskets(orders, seed)]
    revenue = sum(q.total_cents for q in quotes)
    return Summary(
        orders=orders,
        revenue_cents=revenue,
        tax_cents=sum(q.tax_cents for q in quotes),
        average_cents=revenue // orders,
        largest_cents=max(q.total_cents for q in quotes),
    )


EXAMPLE_BASKET = {
    "country": "FR",
    "coupon": "welcome10",
    "lines": [
        {"sku": "BOOK-1", "qty": 3, "unit_cents": 1_299, "category": "books"},
        {"sku": "TV-55", "qty": 1, "unit_cents": 49_900, "category": "electronics"},
        {"sku": "APPLE", "qty": 24, "unit_cents": 45, "category": "food"},
    ],
}

LOAD = [
    LoadRequest(method="GET", path="/orders/summary", query={"orders": ORDERS_DEFAULT}, weight=3),
    LoadRequest(method="POST", path="/orders/quote", json=EXAMPLE_BASKET, weight=1),
]
