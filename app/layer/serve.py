"""What the lab's servers run: ``uvicorn gil_lab_layer.serve:app``, and every other server the same target.

Importing this module imports the app named by ``LAB_APP`` (default ``app.main:app``)
from ``LAB_APP_DIR`` (default: the current directory), checks it and wraps it. Any
problem is raised here, at import, so the server exits non-zero with a message naming
the cause and the fix instead of serving an app the lab would mis-measure.
"""

from __future__ import annotations

from .factory import build
from .settings import LayerSettings

app = build(LayerSettings.from_env())
