"""The JSON pipeline as plain functions: parse, validate, aggregate, and its errors."""

from __future__ import annotations

import json

import pytest

from app.errors import MalformedInput, Unprocessable
from app.workloads import json_work

from .conftest import FREE_THREADED_BUILD


def record(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 1,
        "sku": "SKU-1",
        "price": 10.0,
        "qty": 2,
        "tags": ["red", "sale"],
        "customer": {"id": 7, "country": "DE"},
        "active": True,
    }
    base.update(changes)
    return base


def doc(*records: dict[str, object]) -> bytes:
    return json.dumps(list(records)).encode()


def test_summary_aggregates_active_records_only() -> None:
    summary = json_work.process(
        doc(
            record(price=10.0, qty=2),
            record(id=2, price=5.0, qty=1, tags=["red"], customer={"id": 8, "country": "FR"}),
            record(id=3, price=100.0, qty=9, active=False),
        )
    )
    assert summary.records == 3
    assert summary.active == 2
    assert summary.units == 3
    assert summary.revenue == 25.0
    assert (summary.price_min, summary.price_median, summary.price_max) == (5.0, 10.0, 100.0)
    assert summary.top_countries == [("DE", 20.0), ("FR", 5.0)]
    assert summary.top_tags == [("red", 2), ("sale", 1)]
    assert summary.parser == "json"


def test_records_wrapped_in_an_object_are_accepted() -> None:
    wrapped = json.dumps({"records": [record()]}).encode()
    assert json_work.process(wrapped).records == 1


def test_an_empty_array_gives_an_empty_summary() -> None:
    summary = json_work.process(b"[]")
    assert summary.records == 0
    assert summary.price_median is None


def test_rounds_repeat_the_work_without_changing_the_answer() -> None:
    document = json_work.synthetic_document(50)
    once, thrice = json_work.process(document, rounds=1), json_work.process(document, rounds=3)
    assert thrice.rounds == 3
    assert once.model_dump(exclude={"rounds"}) == thrice.model_dump(exclude={"rounds"})


@pytest.mark.parametrize(
    "body",
    [b"[{", b"not json", b'["\xff"]', b"[" * 100_000 + b"]" * 100_000, b'[{"id": ' + b"9" * 5_000 + b"}]"],
    ids=["truncated", "text", "invalid-utf8", "nested-too-deep", "int-over-digit-limit"],
)
def test_unparsable_documents_are_malformed_input(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="malformed JSON"):
        json_work.process(body)


@pytest.mark.parametrize(
    "body",
    [
        b"3",
        b"null",
        b'{"other": []}',
        doc(record(id=-1)),
        doc(record(price=float("inf"))).replace(b"Infinity", b"1e400"),
        doc(record(qty=10**7)),
        doc(record(customer={"id": 1, "country": "Germany"})),
        doc({"id": 1}),
    ],
    ids=["scalar", "null", "object-without-records", "negative-id", "huge-float", "huge-qty", "bad-country", "missing"],
)
def test_documents_that_are_not_records_are_unprocessable(body: bytes) -> None:
    with pytest.raises(Unprocessable):
        json_work.process(body)


def test_validation_message_names_the_field() -> None:
    with pytest.raises(Unprocessable, match=r"0\.price"):
        json_work.process(doc(record(price=-1)))


def test_many_validation_errors_are_summarised() -> None:
    with pytest.raises(Unprocessable, match=r"and 1 more"):
        json_work.process(doc(record(id=-1, sku="", price=-1, qty=-1)))


def test_validation_stops_at_the_first_invalid_record() -> None:
    """A body of two million invalid records must not become two million errors (gigabytes of memory)."""
    with pytest.raises(Unprocessable) as raised:
        json_work.process(doc(record(), *[record(id=-i - 1) for i in range(1000)]))
    assert "1.id" in raised.value.detail and "2.id" not in raised.value.detail
    assert "stops at the first invalid record" in raised.value.detail


def test_synthetic_document_is_valid_and_sized_as_asked() -> None:
    summary = json_work.process(json_work.synthetic_document(123))
    assert summary.records == 123
    assert summary.active > 0
    assert len(json.loads(json_work.synthetic_document(json_work.RECORDS_MAX))) == json_work.RECORDS_MAX


def test_largest_synthetic_document_fits_the_body_cap() -> None:
    assert len(json_work.synthetic_document(json_work.RECORDS_MAX)) <= json_work.MAX_BODY


@pytest.mark.skipif(not json_work.orjson_available(), reason="orjson is not installed here")
def test_orjson_gives_the_same_summary_as_json() -> None:
    document = json_work.synthetic_document(200)
    stdlib, fast = json_work.process(document, "json"), json_work.process(document, "orjson")
    assert fast.parser == "orjson"
    assert stdlib.model_dump(exclude={"parser"}) == fast.model_dump(exclude={"parser"})


@pytest.mark.skipif(json_work.orjson_available(), reason="orjson is installed here")
def test_missing_orjson_is_explained() -> None:
    reason = "no free-threaded build" if FREE_THREADED_BUILD else "not installed"
    with pytest.raises(Unprocessable, match=reason):
        json_work.process(b"[]", "orjson")


def test_orjson_is_absent_exactly_on_the_free_threaded_build() -> None:
    """The lab installs orjson into the 3.14 environment only (it has no 3.14t build)."""
    assert json_work.orjson_available() is not FREE_THREADED_BUILD
