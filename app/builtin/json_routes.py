"""JSON routes: parse, validate and aggregate a document of order records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..body import body_openapi, raw_body
from ..workloads import json_work
from ..workloads.json_work import Parser, Summary
from .responses import errors

router = APIRouter(tags=["json"])

Rounds = Annotated[int, Query(ge=1, le=json_work.ROUNDS_MAX, description="times to run the whole pipeline")]
ParserChoice = Annotated[Parser, Query(description="json (stdlib) or orjson (3.14 only: no free-threaded build)")]


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


_json_body = raw_body(json_work.MAX_BODY, _is_json, "JSON (application/json)")
_body_doc = body_openapi(
    ["application/json"],
    json_work.RECORDS_SCHEMA,
    f'A JSON array of records, or {{"records": [...]}}; at most {json_work.MAX_BODY} bytes.',
)


@router.post("/json/parse", responses=errors(400, 413, 415, 422), openapi_extra=_body_doc)
def parse_json(
    body: Annotated[bytes, Depends(_json_body)],
    parser: ParserChoice = "json",
    rounds: Rounds = json_work.ROUNDS_DEFAULT,
) -> Summary:
    """Parse the posted document, validate every record and return a summary."""
    return json_work.process(body, parser, rounds)


@router.get("/json/synthetic", responses=errors(422))
def synthetic_json(
    records: Annotated[int, Query(ge=1, le=json_work.RECORDS_MAX)] = json_work.RECORDS_DEFAULT,
    rounds: Rounds = json_work.ROUNDS_DEFAULT,
    parser: ParserChoice = "json",
) -> Summary:
    """The same pipeline on a document generated at start-up; the client sends nothing."""
    return json_work.process(json_work.synthetic_document(records), parser, rounds)
