"""Documented error responses shared by the built-in routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """Every 4xx body: ``detail`` is a sentence, or FastAPI's list for parameter errors."""

    detail: str | list[dict[str, Any]]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given 4xx codes."""
    reasons = {
        400: "Malformed or empty body",
        413: "Body or decoded image over the documented limit",
        415: "Wrong content type, or bytes in no supported format",
        422: "Invalid parameters or content, or a feature this environment lacks",
    }
    return {code: {"model": ErrorDetail, "description": reasons[code]} for code in codes}
