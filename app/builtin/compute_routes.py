"""Compute routes: pure-Python loops and short hashes, in a thread and on the loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ..workloads import compute_work
from .responses import errors

router = APIRouter(tags=["compute"])

PureN = Annotated[int, Query(ge=1, le=compute_work.PURE_MAX, description="loop iterations")]


class HashResult(BaseModel):
    n: int
    digest: str


class PureResult(BaseModel):
    n: int
    result: int


@router.get("/compute/hash", responses=errors(422))
def compute_hash(
    n: Annotated[int, Query(ge=1, le=compute_work.HASH_MAX, description="sha256 calls")] = compute_work.HASH_DEFAULT,
) -> HashResult:
    """Hash a short input ``n`` times (hashlib holds the GIL for inputs this small)."""
    return HashResult(n=n, digest=compute_work.hash_loop(n))


@router.get("/compute/pure", responses=errors(422))
def compute_pure(n: PureN = compute_work.PURE_DEFAULT) -> PureResult:
    """Pure-Python arithmetic in the thread pool: scales with threads only without the GIL."""
    return PureResult(n=n, result=compute_work.pure(n))


@router.get("/compute/contended", responses=errors(422))
def compute_contended(n: PureN = compute_work.PURE_DEFAULT) -> PureResult:
    """``pure`` reading a shared module global that is never immortal: its reference count is contended on 3.14t."""
    return PureResult(n=n, result=compute_work.pure_shared(n))


@router.get("/compute/pure-async", responses=errors(422))
async def compute_pure_async(n: PureN = compute_work.PURE_DEFAULT) -> PureResult:
    """The same work in an ``async def``: it blocks the event loop, so it never scales."""
    return PureResult(n=n, result=compute_work.pure(n))
