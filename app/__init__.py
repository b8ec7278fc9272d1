"""gil-lab's app under test: CPU-bound FastAPI routes plus drop-in routes.

``app.main:app`` is the ASGI application. The GIL watch is installed first, before
any extension module is imported through this package.
"""

from . import gilwatch

gilwatch.install()
