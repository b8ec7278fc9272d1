"""Atomic writes: the mode a plain open() would give, and unique temporary names."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.core.jsonfile import write_json_atomic, write_text_atomic


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_results_are_readable_by_other_users_as_the_umask_allows(tmp_path: Path, umask: None) -> None:
    write_json_atomic(tmp_path / "run.json", {"a": 1})
    write_text_atomic(tmp_path / "report.md", "# x\n")
    assert stat.S_IMODE((tmp_path / "run.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o644
    os.umask(0o077)
    write_json_atomic(tmp_path / "private.json", {"a": 1})
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path: Path) -> None:
    target, errors = tmp_path / "report.md", []

    def write(text: str) -> None:
        try:
            for _ in range(100):
                write_text_atomic(target, text)
        except OSError as exc:  # a shared temporary name: one writer renames the other's file away
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(text,)) for text in ("a" * 5000, "b" * 5000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert target.read_text() in ("a" * 5000, "b" * 5000)
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
