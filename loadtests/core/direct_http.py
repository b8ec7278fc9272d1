"""HTTP from the lab itself, never through a proxy.

The lab talks to its own servers (``/lab/runtime``), to Locust's web API and to apps
the user named (``--app-url``). urllib sends every request to ``HTTP(S)_PROXY`` unless
``NO_PROXY`` covers the host, so with a proxy exported the lab's own calls would go to
the proxy: they would fail, or measure the proxy. These calls ignore the proxy settings.
Downloads from the internet (the CPython tarball) use urllib as usual, proxy included.
"""

from __future__ import annotations

import urllib.request
from typing import Any

# An empty ProxyHandler: no proxy for any scheme, whatever the environment says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_direct(request: urllib.request.Request | str, timeout: float) -> Any:
    """``urllib.request.urlopen`` without any proxy (a context manager, like urlopen's answer)."""
    return _DIRECT.open(request, timeout=timeout)
