"""Import the app named by ``module:attr`` from the app's directory.

The directory goes first on ``sys.path``, so a team package called ``app`` wins over
the lab's own ``app`` (which the lab's servers can see from their working directory).
A module of that name imported *before* the layer ran cannot be replaced, so that case
is refused with the two locations rather than served silently from the wrong place.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from .errors import AppImportError
from .settings import AppTarget

#: Lines of the import's traceback kept in the error: the deepest frames and the exception.
TRACEBACK_TAIL = 15


def load(target: AppTarget, app_dir: Path) -> object:
    """The object ``target`` names, imported with ``app_dir`` first on ``sys.path``."""
    directory = str(app_dir)
    if directory in sys.path:
        sys.path.remove(directory)
    sys.path.insert(0, directory)
    _refuse_stale_top_level(target, app_dir)
    try:
        module = importlib.import_module(target.module)
    except Exception as error:
        raise AppImportError(
            f"cannot import {target.module!r} (LAB_APP={target}, LAB_APP_DIR={app_dir}): "
            f"{type(error).__name__}: {error}\nLast lines of the traceback:\n{traceback_tail(error)}\n"
            "Fix the import error, or point LAB_APP_DIR at the directory holding the package and install "
            "the app's requirements into this environment."
        ) from None
    found: object = module
    for depth, name in enumerate(target.attr.split(".")):
        try:
            found = getattr(found, name)
        except AttributeError:
            owner = ".".join([target.module, *target.attr.split(".")[:depth]])
            public = sorted(n for n in dir(module if depth == 0 else found) if not n.startswith("_"))[:20]
            raise AppImportError(
                f"LAB_APP={target}: {owner!r} has no attribute {name!r}. Name the ASGI app object; "
                f"{owner!r} defines: {', '.join(public) or 'nothing public'}"
            ) from None
    return found


def traceback_tail(error: BaseException, lines: int = TRACEBACK_TAIL) -> str:
    """The last ``lines`` lines of ``error``'s formatted traceback."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip()
    return "\n".join(text.splitlines()[-lines:])


def _refuse_stale_top_level(target: AppTarget, app_dir: Path) -> None:
    """Refuse when the app's top-level package was already imported from somewhere else."""
    top = target.module.split(".", 1)[0]
    loaded = sys.modules.get(top)
    if loaded is None or not ((app_dir / top).is_dir() or (app_dir / f"{top}.py").is_file()):
        return
    origin = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", [])), None)
    if origin is not None and not Path(origin).resolve().is_relative_to(app_dir):
        raise AppImportError(
            f"LAB_APP={target}: a module named {top!r} was already imported from {origin} before the layer could "
            f"put LAB_APP_DIR={app_dir} first on sys.path. Rename one of the two packages, or remove the other "
            "from the server's PYTHONPATH."
        )
