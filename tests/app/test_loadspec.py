"""LoadRequest: what a drop-in may declare, and the /lab/loads wire form."""

from __future__ import annotations

import base64

import pytest

from app.errors import LoadSpecError
from app.loadspec import LoadRequest


def test_defaults_and_label() -> None:
    spec = LoadRequest(path="/things", method="post", json={"a": 1})
    assert spec.method == "POST"
    assert spec.label == "POST /things"
    assert LoadRequest(path="/x", name="custom").label == "custom"


def test_wire_form_of_a_json_request() -> None:
    wire = LoadRequest(path="/t", method="PUT", json=[1, 2], headers={"x-k": "v"}, weight=4, expect=201).to_json("mod")
    assert wire == {
        "module": "mod",
        "name": "PUT /t",
        "method": "PUT",
        "path": "/t",
        "query": {},
        "headers": {"x-k": "v"},
        "json": [1, 2],
        "body": None,
        "body_base64": None,
        "content_type": "application/json",
        "weight": 4,
        "expect": 201,
    }


def test_bytes_bodies_travel_as_base64_and_text_as_is() -> None:
    raw = LoadRequest(path="/u", method="POST", body=b"\x89PNG\x00", content_type="image/png").to_json("m")
    assert raw["body"] is None
    assert base64.b64decode(raw["body_base64"]) == b"\x89PNG\x00"
    text = LoadRequest(path="/u", method="POST", body="a,b\n1,2\n", content_type="text/csv").to_json("m")
    assert (text["body"], text["body_base64"], text["content_type"]) == ("a,b\n1,2\n", None, "text/csv")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": "relative"}, "must start with '/'"),
        ({"path": "/x?y=1"}, "query="),
        ({"path": "/x", "method": "FETCH"}, "method must be"),
        ({"path": "/x", "weight": 0}, "weight"),
        ({"path": "/x", "weight": True}, "weight"),
        ({"path": "/x", "expect": 99}, "expect"),
        ({"path": "/x", "query": {"n": [1]}}, "query must map"),
        ({"path": "/x", "headers": {"n": 1}}, "headers must map"),
        ({"path": "/x", "json": {}, "body": "a", "content_type": "text/plain"}, "not both"),
        ({"path": "/x", "body": "a"}, "needs content_type"),
        ({"path": "/x", "json": {"v": float("nan")}}, "JSON-serialisable"),
        ({"path": "/x", "json": {"v": object()}}, "JSON-serialisable"),
    ],
)
def test_invalid_specs_fail_when_built(fields: dict[str, object], message: str) -> None:
    with pytest.raises(LoadSpecError, match=message):
        LoadRequest(**fields)  # type: ignore[arg-type]
