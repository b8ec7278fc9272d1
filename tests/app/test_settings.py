"""LAB_THREADS and LAB_ROUTES_DIR: documented defaults, loud refusals."""

from __future__ import annotations

import pytest

from app.errors import SettingsError
from app.settings import DEFAULT_THREADS, MAX_THREADS, Settings

from .conftest import run_python


def test_defaults_when_unset_or_blank() -> None:
    assert Settings.from_env({}) == Settings(threads=DEFAULT_THREADS, routes_dirs=())
    assert Settings.from_env({"LAB_THREADS": " ", "LAB_ROUTES_DIR": ""}).threads == DEFAULT_THREADS


def test_lab_threads_is_read() -> None:
    assert Settings.from_env({"LAB_THREADS": " 16 "}).threads == 16


@pytest.mark.parametrize("raw", ["0", "-4", "eight", "2.5", str(MAX_THREADS + 1)])
def test_bad_lab_threads_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="LAB_THREADS"):
        Settings.from_env({"LAB_THREADS": raw})


def test_a_bad_lab_threads_stops_the_server_process() -> None:
    result = run_python("import app.main", {"LAB_THREADS": "lots"})
    assert result.returncode != 0
    assert "LAB_THREADS must be an integer" in result.stderr
