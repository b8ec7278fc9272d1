"""gil-lab's app under test: CPU-bound FastAPI routes plus drop-in routes.

``app.main:app`` is the ASGI application. The lab's servers do not run it directly:
they run ``gil_lab_layer.serve:app`` (source in ``app/layer/``), which imports this
app, applies the thread limit and answers ``/lab/runtime`` and ``/lab/loads``.
"""
