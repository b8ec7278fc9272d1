"""Drop-in routes: every module here (and in each ``LAB_ROUTES_DIR``) is served.

A module exports ``router``, a FastAPI ``APIRouter``, and may export ``LOAD``, a list
of ``app.loadspec.LoadRequest`` telling the lab's generic Locust scenario how to call
it. Modules starting with ``_`` are helpers and are skipped. See ``orders.py``.
"""
