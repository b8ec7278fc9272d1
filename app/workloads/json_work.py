"""JSON pipeline: parse a document of order records, validate them, aggregate a summary.

This is what a typical FastAPI service does per request, but done inside the
route's thread: ``json.loads`` (C, never releases the GIL), pydantic validation
(Rust, holding the GIL on 3.14) and a pure-Python aggregation. ``parser="orjson"``
swaps the parser where orjson is installed; it has no free-threaded build.
"""

from __future__ import annotations

import json
import random
import sysconfig
from collections import Counter
from collections.abc import Callable
from functools import cache
from statistics import median
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.types import FailFast

from ..errors import MalformedInput, Unprocessable

try:  # orjson is installed in the 3.14 environment only
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

Parser = Literal["json", "orjson"]

#: Largest accepted body for POST /json/parse: room for the largest synthetic document.
MAX_BODY = 4 * 1024 * 1024
#: A default request (8 000 records, one round) costs roughly 60-80 ms of CPU; the
#: largest (20 000 records, 10 rounds) about 25 times that.
RECORDS_DEFAULT = 8_000
RECORDS_MAX = 20_000
ROUNDS_DEFAULT = 1
ROUNDS_MAX = 10
#: How many validation errors (of the first invalid record) a 422 message lists before summarising the rest.
_ERRORS_SHOWN = 3


class Customer(BaseModel):
    """The buyer of an order."""

    id: int = Field(ge=0, le=2**53)
    country: str = Field(min_length=2, max_length=2)


class Record(BaseModel):
    """One order line as a client sends it; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=0, le=2**53)
    sku: str = Field(min_length=1, max_length=64)
    price: float = Field(ge=0, le=1e9, allow_inf_nan=False)
    qty: int = Field(ge=0, le=1_000_000)
    tags: list[str] = Field(default_factory=list, max_length=32)
    customer: Customer
    active: bool = True


# Validation stops at the first invalid record. Without that, pydantic builds an error for every
# one: a 4 MiB body of `[0,0,...]` is two million errors, over 2 GB of memory before three are shown.
_RECORDS = TypeAdapter(Annotated[list[Record], FailFast()])
#: JSON Schema of an accepted document (a bare array), for the OpenAPI description.
RECORDS_SCHEMA = _RECORDS.json_schema()


class Summary(BaseModel):
    """What the pipeline returns: small, so serialising it costs nothing."""

    records: int
    active: int
    units: int
    revenue: float
    price_min: float | None
    price_median: float | None
    price_max: float | None
    top_countries: list[tuple[str, float]]
    top_tags: list[tuple[str, int]]
    parser: str
    rounds: int
    document_bytes: int


def orjson_available() -> bool:
    """Whether ``parser="orjson"`` can be served here."""
    return orjson is not None


def loader(parser: Parser) -> Callable[[bytes], Any]:
    """The parse function for ``parser``; 422 when orjson is asked for but absent."""
    if parser == "json":
        return json.loads
    if orjson is None:
        if sysconfig.get_config_var("Py_GIL_DISABLED") == 1:
            reason = "orjson has no free-threaded build, so it is not installed on this interpreter"
        else:
            reason = "orjson is not installed in this environment"
        raise Unprocessable(f"parser=orjson is unavailable: {reason}; use parser=json")
    return orjson.loads


def parse(document: bytes, load: Callable[[bytes], Any]) -> Any:
    """Parse JSON bytes; 400 for anything that is not a JSON document."""
    try:
        return load(document)
    except RecursionError:
        raise MalformedInput("malformed JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, int digit limits
        raise MalformedInput(f"malformed JSON: {error}") from None


def validate(data: Any) -> list[Record]:
    """Validate a list of records, or ``{"records": [...]}``; 422 when they do not fit."""
    if isinstance(data, dict) and "records" in data:
        data = data["records"]
    if not isinstance(data, list):
        raise Unprocessable('expected a JSON array of records or an object {"records": [...]}')
    try:
        return _RECORDS.validate_python(data)
    except ValidationError as error:
        raise Unprocessable(_describe(error)) from None


def summarize(records: list[Record]) -> dict[str, Any]:
    """Aggregate revenue, units, prices, countries and tags in plain Python."""
    revenue = 0.0
    units = 0
    active = 0
    by_country: dict[str, float] = {}
    tags: Counter[str] = Counter()
    prices: list[float] = []
    for record in records:
        prices.append(record.price)
        if not record.active:
            continue
        active += 1
        line = record.price * record.qty
        revenue += line
        units += record.qty
        country = record.customer.country
        by_country[country] = by_country.get(country, 0.0) + line
        tags.update(record.tags)
    top_countries = sorted(by_country.items(), key=lambda item: (-item[1], item[0]))[:5]
    return {
        "records": len(records),
        "active": active,
        "units": units,
        "revenue": round(revenue, 2),
        "price_min": min(prices) if prices else None,
        "price_median": median(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "top_countries": [(country, round(total, 2)) for country, total in top_countries],
        "top_tags": sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:5],
    }


def process(document: bytes, parser: Parser = "json", rounds: int = ROUNDS_DEFAULT) -> Summary:
    """Run parse, validate and aggregate ``rounds`` times over ``document``."""
    load = loader(parser)
    summary: dict[str, Any] = {}
    for _ in range(rounds):
        summary = summarize(validate(parse(document, load)))
    return Summary(**summary, parser=parser, rounds=rounds, document_bytes=len(document))


@cache
def _synthetic_records() -> tuple[bytes, ...]:
    """RECORDS_MAX records, each encoded once, from a fixed seed."""
    rng = random.Random(20251125)
    countries = ("DE", "FR", "US", "JP", "BR", "IN", "GB", "NL", "SE", "ES")
    words = ("red", "blue", "sale", "new", "bulk", "gift", "eco", "promo", "fragile", "express")
    encoded = []
    for i in range(RECORDS_MAX):
        record = {
            "id": i,
            "sku": f"SKU-{rng.randrange(100_000):06d}",
            "price": round(rng.uniform(0.5, 500.0), 2),
            "qty": rng.randrange(1, 20),
            "tags": rng.sample(words, rng.randrange(0, 4)),
            "customer": {"id": rng.randrange(50_000), "country": rng.choice(countries)},
            "active": rng.random() > 0.1,
            "note": "synthetic order line for gil-lab",
        }
        encoded.append(json.dumps(record, separators=(",", ":")).encode())
    return tuple(encoded)


def prepare_synthetic() -> None:
    """Build the synthetic records now (at start-up) rather than in the first request."""
    _synthetic_records()


def synthetic_document(records: int) -> bytes:
    """A JSON array of the first ``records`` synthetic records (a cheap byte join)."""
    return b"[" + b",".join(_synthetic_records()[:records]) + b"]"


def _describe(error: ValidationError) -> str:
    problems = error.errors(include_url=False, include_input=False)
    shown = "; ".join(f"{'.'.join(map(str, p['loc'])) or 'document'}: {p['msg']}" for p in problems[:_ERRORS_SHOWN])
    more = len(problems) - _ERRORS_SHOWN
    return (f"invalid records: {shown}" + (f" (and {more} more)" if more > 0 else "")
            + " (validation stops at the first invalid record)")
