"""bookshop: a small FastAPI service to try gil-lab on a service of your own.

Search, recommendations, a catalogue export and a cart quote over a catalogue that is
generated at start-up (no database). Its endpoints do CPU work of several kinds:
rapidfuzz (C++), PyYAML's libyaml emitter (C) and plain Python, and one of them does
its work in an ``async def``, which blocks the event loop.
"""
