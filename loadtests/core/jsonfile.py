"""JSON files the lab writes and depends on: atomic writes, reads that say what to do."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from loadtests.core.errors import LabError


def _umask() -> int:
    """The process's umask, read without changing it (Linux's /proc), else by setting it back at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new file with a unique name beside ``path``, with the mode a plain ``open()`` would give it.

    mkstemp makes files only their owner can read; results must stay readable by the other
    users the umask allows (a container writing as another uid, a shared results directory).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


def write_json_atomic(path: Path, data: Any, indent: int | None = 1) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A reader (or a crash) sees the old file or the new one, never half of one.
    """
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=indent)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> Path:
    """Same as :func:`write_json_atomic` for text (reports, docs)."""
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: Path, error: type[LabError], if_missing: str) -> Any:
    """A JSON file the lab depends on; a missing or corrupt one raises ``error`` saying what to do."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path} does not exist; {if_missing}") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not valid JSON: {exc}") from exc
