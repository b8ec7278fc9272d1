"""LAB_ROUTES_DIR: documented defaults, loud refusals (LAB_THREADS belongs to the layer: test_layer_settings.py)."""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import Settings


def test_defaults_when_unset_or_blank() -> None:
    assert Settings.from_env({}) == Settings(routes_dirs=())
    assert Settings.from_env({"LAB_ROUTES_DIR": ""}).routes_dirs == ()


def test_routes_dirs_are_read_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert Settings.from_env({"LAB_ROUTES_DIR": os.pathsep.join([str(first), str(second)])}).routes_dirs == (first, second)
