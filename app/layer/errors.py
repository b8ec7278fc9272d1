"""Why the layer refuses to serve an app. Every message names the cause and the fix.

These are raised while ``gil_lab_layer.serve`` is imported, so the server exits
non-zero with the message instead of serving something the lab would mis-measure.
None of them is an ``ImportError``: servers treat those as "module not found" and
would replace the message with their own.

    LayerError
    ├── LayerSettingsError   LAB_APP, LAB_APP_DIR or LAB_THREADS has an unusable value
    ├── AppImportError       the app's module raised while it was imported, or lacks the attribute
    ├── NotAnAsgiApp         the attribute is not an ASGI 3 callable
    └── ReservedPathError    the app's own route table serves the lab's /lab/ prefix
"""

from __future__ import annotations


class LayerError(Exception):
    """Root of every refusal of the layer."""


class LayerSettingsError(LayerError):
    """Raised when LAB_APP is not ``module:attr``, LAB_APP_DIR is no directory, or LAB_THREADS is out of range."""


class AppImportError(LayerError):
    """Raised when importing the app's module fails (with its traceback's tail) or the attribute is missing."""


class NotAnAsgiApp(LayerError):
    """Raised when the named attribute is not an ASGI 3 application (a WSGI app, an ASGI 2 app, a class...)."""


class ReservedPathError(LayerError):
    """Raised when the app declares a route or mount under ``/lab/``, which the layer answers itself."""
