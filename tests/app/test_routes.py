"""Every built-in route through FastAPI's TestClient: defaults work, bad input is a 4xx with a reason."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.workloads import compute_work, image_work, json_work

from .conftest import FREE_THREADED_BUILD, image_bytes

JSON = {"content-type": "application/json"}
RECORD = {"id": 1, "sku": "A-1", "price": 2.5, "qty": 4, "customer": {"id": 9, "country": "NL"}}


@pytest.mark.parametrize(
    "path",
    [
        "/json/synthetic",
        "/image/synthetic",
        "/compute/hash",
        "/compute/pure",
        "/compute/pure-async",
        "/compute/contended",
        "/lab/runtime",
        "/lab/loads",
        "/orders/summary",
    ],
)
def test_every_get_route_answers_200_on_defaults(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_json_synthetic_defaults(client: TestClient) -> None:
    body = client.get("/json/synthetic").json()
    assert body["records"] == json_work.RECORDS_DEFAULT
    assert body["rounds"] == json_work.ROUNDS_DEFAULT
    assert body["parser"] == "json"


def test_compute_routes_return_the_workload_results(client: TestClient) -> None:
    assert client.get("/compute/pure", params={"n": 1000}).json() == {"n": 1000, "result": compute_work.pure(1000)}
    assert client.get("/compute/pure-async", params={"n": 1000}).json()["result"] == compute_work.pure(1000)
    assert client.get("/compute/contended", params={"n": 1000}).json()["result"] == compute_work.pure(1000)
    assert client.get("/compute/hash", params={"n": 2}).json()["digest"] == compute_work.hash_loop(2)
    assert client.get("/compute/hash").json()["n"] == compute_work.HASH_DEFAULT


def test_pure_async_is_a_coroutine_and_the_others_are_not() -> None:
    """The does-not-scale reference must block the loop; every other CPU route must not."""
    import inspect

    from app.builtin import compute_routes, image_routes, json_routes

    assert inspect.iscoroutinefunction(compute_routes.compute_pure_async)
    for route in (
        compute_routes.compute_pure,
        compute_routes.compute_contended,
        compute_routes.compute_hash,
        json_routes.parse_json,
        json_routes.synthetic_json,
        image_routes.transform_image,
        image_routes.synthetic_image,
    ):
        assert not inspect.iscoroutinefunction(route), route.__name__


def test_json_parse_summarises_a_posted_document(client: TestClient) -> None:
    response = client.post("/json/parse", content=json.dumps([RECORD, RECORD]), headers=JSON)
    assert response.status_code == 200
    assert response.json()["units"] == 8


def test_json_parse_accepts_json_suffix_types_and_charset(client: TestClient) -> None:
    headers = {"content-type": "application/vnd.orders+json; charset=utf-8"}
    assert client.post("/json/parse", content=json.dumps([RECORD]), headers=headers).status_code == 200


def test_json_parse_takes_the_largest_synthetic_document(client: TestClient) -> None:
    document = json_work.synthetic_document(json_work.RECORDS_MAX)
    response = client.post("/json/parse", content=document, headers=JSON)
    assert response.status_code == 200
    assert response.json()["records"] == json_work.RECORDS_MAX


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"[{", JSON, 400, "malformed JSON"),
        (b"", JSON, 400, "empty body"),
        (b"[]", {"content-type": "text/plain"}, 415, "text/plain"),
        (b"[]", {}, 415, "expected a JSON"),
        (b'[{"id": ' + b"9" * 5000 + b"}]", JSON, 400, "digits"),
        (json.dumps([{**RECORD, "qty": -3}]).encode(), JSON, 422, "qty"),
        (json.dumps([{**RECORD, "id": 2**80}]).encode(), JSON, 422, "id"),
        (b'[{"id": 1, "price": 1e999}]', JSON, 422, "price"),
        (b'{"no": "records"}', JSON, 422, "expected a JSON array"),
        (b"[" + b" " * json_work.MAX_BODY + b"]", JSON, 413, "limit"),
    ],
    ids=[
        "malformed",
        "empty",
        "wrong-type",
        "no-type",
        "huge-int",
        "negative",
        "int-over-range",
        "float-overflow",
        "not-records",
        "oversized",
    ],
)
def test_json_parse_bad_input_is_a_4xx_with_a_reason(
    client: TestClient, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    response = client.post("/json/parse", content=body, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["detail"]


def test_oversized_chunked_json_body_is_413_without_content_length(client: TestClient) -> None:
    chunk = b" " * (1024 * 1024)
    chunks = iter([b"["] + [chunk] * 5 + [b"]"])
    response = client.post("/json/parse", content=chunks, headers=JSON)
    assert response.status_code == 413


def test_orjson_works_on_314_and_is_a_clear_4xx_on_314t(client: TestClient) -> None:
    response = client.get("/json/synthetic", params={"parser": "orjson", "records": 10})
    if FREE_THREADED_BUILD:
        assert response.status_code == 422
        assert "no free-threaded build" in response.json()["detail"]
    else:
        assert response.status_code == 200
        assert response.json()["parser"] == "orjson"


@pytest.mark.parametrize(
    "query",
    [
        {"n": -1},
        {"n": 0},
        {"n": compute_work.PURE_MAX + 1},
        {"n": "9" * 5000},
        {"n": "1.5"},
        {"n": "many"},
    ],
    ids=["negative", "zero", "over-max", "huge", "float", "text"],
)
@pytest.mark.parametrize("path", ["/compute/pure", "/compute/pure-async", "/compute/hash"])
def test_compute_bad_numbers_are_422(client: TestClient, path: str, query: dict[str, object]) -> None:
    response = client.get(path, params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "n"]


@pytest.mark.parametrize(
    "query",
    [
        {"records": 0},
        {"records": json_work.RECORDS_MAX + 1},
        {"rounds": json_work.ROUNDS_MAX + 1},
        {"rounds": -2},
        {"parser": "simdjson"},
    ],
)
def test_json_synthetic_bad_parameters_are_422(client: TestClient, query: dict[str, object]) -> None:
    assert client.get("/json/synthetic", params=query).status_code == 422


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_image_transform_returns_the_requested_format(client: TestClient, fmt: str) -> None:
    response = client.post(
        "/image/transform",
        params={"format": fmt, "width": 48},
        content=image_bytes("PNG", (96, 64)),
        headers={"content-type": "image/png"},
    )
    if fmt == "webp" and not image_work.webp_available():
        assert response.status_code == 422
        return
    assert response.status_code == 200
    assert response.headers["content-type"] == image_work.MEDIA_TYPES[fmt]
    assert Image.open(io.BytesIO(response.content)).format == fmt.upper()


def test_image_synthetic_default_is_a_png(client: TestClient) -> None:
    response = client.get("/image/synthetic")
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"GIF89a but not really an image", "image/gif", 415, "not an image"),
        (b"plain words", "application/octet-stream", 415, "not an image"),
        (image_bytes("PNG", (400, 300))[:300], "image/png", 422, "truncated"),
        (image_bytes("PNG", (5000, 5000), "1"), "image/png", 413, "limit"),
        (image_bytes("PNG"), "text/plain", 415, "text/plain"),
        (b"", "image/png", 400, "empty body"),
        (b"\x00" * (image_work.MAX_BODY + 1), "image/png", 413, "limit"),
    ],
    ids=["fake-gif", "text", "truncated", "bomb", "wrong-type", "empty", "oversized"],
)
def test_image_bad_input_is_a_4xx_with_a_reason(
    client: TestClient, body: bytes, content_type: str, status: int, reason: str
) -> None:
    response = client.post("/image/transform", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [{"width": 15}, {"width": image_work.WIDTH_MAX + 1}, {"blur": -1}, {"blur": "nan"}, {"angle": "inf"}, {"format": "gif"}],
)
def test_image_bad_parameters_are_422(client: TestClient, query: dict[str, object]) -> None:
    assert client.get("/image/synthetic", params=query).status_code == 422


def test_openapi_documents_every_size_bound(client: TestClient) -> None:
    """Each size parameter carries its upper bound in the schema, where fuzzers and users read it."""
    schema = client.get("/openapi.json").json()

    def maximum(path: str, method: str, name: str) -> object:
        params = schema["paths"][path][method]["parameters"]
        return next(p["schema"].get("maximum") for p in params if p["name"] == name)

    assert maximum("/compute/pure", "get", "n") == compute_work.PURE_MAX
    assert maximum("/compute/hash", "get", "n") == compute_work.HASH_MAX
    assert maximum("/json/synthetic", "get", "records") == json_work.RECORDS_MAX
    assert maximum("/json/synthetic", "get", "rounds") == json_work.ROUNDS_MAX
    assert maximum("/image/synthetic", "get", "width") == image_work.WIDTH_MAX
    assert "requestBody" in schema["paths"]["/json/parse"]["post"]
    assert "requestBody" in schema["paths"]["/image/transform"]["post"]
