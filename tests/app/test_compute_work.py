"""The compute workloads as plain functions: deterministic results, sane bounds."""

from __future__ import annotations

import hashlib

from app.workloads import compute_work


def test_pure_matches_a_straightforward_reimplementation() -> None:
    acc = 0
    for i in range(1_000):
        acc = (acc * 31 + i * i + (i >> 3)) % 1_000_003
    assert compute_work.pure(1_000) == acc


def test_pure_is_deterministic_and_depends_on_n() -> None:
    assert compute_work.pure(5_000) == compute_work.pure(5_000)
    assert compute_work.pure(5_000) != compute_work.pure(5_001)


def test_hash_loop_returns_the_sha256_of_its_input() -> None:
    expected = hashlib.sha256(b"gil-lab: a short payload to hash").hexdigest()
    assert compute_work.hash_loop(3) == expected


def test_hash_loop_of_zero_iterations_is_empty() -> None:
    assert compute_work.hash_loop(0) == ""


def test_defaults_sit_below_their_bounds() -> None:
    assert 1 <= compute_work.PURE_DEFAULT < compute_work.PURE_MAX
    assert 1 <= compute_work.HASH_DEFAULT < compute_work.HASH_MAX
