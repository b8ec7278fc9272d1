"""Is an object an ASGI 3 application? And if not, what is it?

ASGI 3 is one awaitable callable ``app(scope, receive, send)``. The check is by
inspection only (nothing is called), and it refuses only what it can tell for sure is
something else: a class, a non-callable, or a synchronous callable whose signature takes
one argument (ASGI 2: ``app(scope)``), two (WSGI: ``app(environ, start_response)``) or
none (an app factory). Anything it cannot tell (a compiled callable without a
signature) is accepted, and a mistake shows at the first request.
"""

from __future__ import annotations

import functools
import inspect


def describe(obj: object) -> str:
    """What ``obj`` is, in words: ``a function myapp.main.make_app``, ``an instance of builtins.dict``."""
    if inspect.isclass(obj):
        return f"a class {obj.__module__}.{obj.__qualname__}"
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return f"a function {obj.__module__}.{obj.__qualname__}"
    kind = type(obj)
    return f"an instance of {kind.__module__}.{kind.__qualname__}"


def problem(obj: object) -> str | None:
    """Why ``obj`` is not an ASGI 3 application, or ``None`` when it is (or may be) one.

    The reason reads after "which is": ``"'app' is a function m.f, which is <reason>"``.
    """
    if inspect.isclass(obj):
        return "not an application instance: name an instance (app = MyApp()) or an async function"
    if not callable(obj):
        return "not callable: an ASGI 3 app is an `async def app(scope, receive, send)` or an object with one"
    return _arity_problem(obj, is_async_callable(obj))


def is_async_callable(obj: object) -> bool:
    """An ``async def`` function (also through ``functools.partial``), or an object whose ``__call__`` is one."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj):
        return True
    return callable(obj) and not inspect.isroutine(obj) and inspect.iscoroutinefunction(type(obj).__call__)


def _arity_problem(call: object, awaitable: bool) -> str | None:
    try:
        parameters = list(inspect.signature(call).parameters.values())  # type: ignore[arg-type]  # callable
    except (TypeError, ValueError):
        return None  # no signature to read (a compiled callable): accept
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if len(required) <= 3 <= len(positional):
        return None
    count = len(required)
    if awaitable:
        return f"an async callable taking {count} argument(s); ASGI 3 passes three: (scope, receive, send)"
    if count == 0:
        return ("a callable taking no arguments, probably an app factory: call it at module level "
                "(app = create_app()) and name the result")
    if count == 1:
        return ("an ASGI 2 app (one argument, scope): wrap it as ASGI 3, e.g. with "
                "asgiref.compatibility.guarantee_single_callable, and name the wrapper")
    if count == 2:
        return ("a WSGI app (environ, start_response): gil-lab serves ASGI apps; wrap it, e.g. with "
                "a2wsgi.WSGIMiddleware, and name the wrapper")
    return f"a callable taking {count} arguments; ASGI 3 passes three: (scope, receive, send)"
