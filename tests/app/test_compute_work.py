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


def test_the_contended_loop_computes_what_pure_computes() -> None:
    assert compute_work.pure_shared(5_000) == compute_work.pure(5_000)


def test_the_contended_loops_modulus_is_never_immortal_and_the_constant_is_from_bytecode(tmp_path) -> None:
    """The contended scenario does not depend on the bytecode state; compute's constant does (on 3.14t)."""
    import sys

    from .conftest import FREE_THREADED_BUILD, run_python

    probe = ("import sys, app.workloads.compute_work as w; "
             "print(sys._is_immortal(w._SHARED_MODULUS), sys._is_immortal(w._MODULUS))")
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": ""}
    source = run_python(probe, env).stdout.split()  # the first start compiles from source (and writes)
    compiled = run_python(probe, env).stdout.split()  # the second loads the .pyc
    assert source[0] == compiled[0] == "False"
    if FREE_THREADED_BUILD and hasattr(sys, "_is_immortal"):
        assert (source[1], compiled[1]) == ("False", "True")
