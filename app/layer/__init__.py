"""gil-lab's ASGI layer: serve any ASGI 3 app unchanged, and answer the lab's ``/lab/`` routes.

The lab installs this directory into each app environment as the package
``gil_lab_layer``. It never imports the lab's ``app`` package, because a team's own
package is often called ``app`` too, and it uses relative imports only, so the same
source works under either name. Standard library only; anyio is used when it is
importable.

- ``gil_lab_layer.serve:app``: what the lab's servers run. It imports the app named by
  ``LAB_APP`` (from ``LAB_APP_DIR``), checks it, and wraps it in :class:`LabLayer`.
- ``python -m gil_lab_layer.inspect MODULE:ATTR``: one JSON object describing an app
  (does it import, is it ASGI 3, its framework and route table).
- ``gil_lab_layer.gilwatch``: records which imports turned the GIL back on; a ``.pth``
  file installs it at interpreter start.

Nothing is imported here: the ``.pth`` hook imports ``gil_lab_layer.gilwatch`` at every
interpreter start and must stay cheap.
"""
