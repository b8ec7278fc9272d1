"""The CPU work behind the built-in routes, as plain functions.

Routes are thin wrappers around these, so the same work can be unit-tested and
micro-benchmarked (``gil-lab threads``) without HTTP. Each function raises
``app.errors.BadInput`` subclasses for input it cannot process, and nothing else on
purpose.
"""
