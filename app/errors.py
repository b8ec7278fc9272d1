"""The app's exception tree.

Start-up errors stop the process with a message naming what to fix; request errors
become a 4xx response ``{"detail": "..."}``. Anything else is a bug and is allowed to
surface as a 500: the app never turns an unexpected exception into a 4xx by default.

    AppError
    ├── SettingsError          a LAB_* environment variable is invalid (start-up)
    ├── RouteDiscoveryError    a drop-in route module is broken (start-up)
    ├── LoadSpecError          a LoadRequest is malformed (raised while a module imports)
    └── BadInput               the request cannot be served as sent (4xx)
        ├── MalformedInput       400: unparsable body, empty body
        ├── PayloadTooLarge      413: body over its cap, image over the pixel limit
        ├── UnsupportedMediaType 415: wrong content type, bytes that are no image
        └── Unprocessable        422: parsed but invalid, or unsupported here
"""

from __future__ import annotations


class AppError(Exception):
    """Root of every error the app raises on purpose."""


class SettingsError(AppError):
    """A LAB_* environment variable has a value the app cannot use."""


class RouteDiscoveryError(AppError):
    """A drop-in route module failed to import, exports no router, or has a bad load spec."""


class LoadSpecError(AppError, ValueError):
    """A ``LoadRequest`` was built with invalid fields."""


class BadInput(AppError):
    """The request's payload or parameters cannot be processed; answered with ``status_code``."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedInput(BadInput):
    """The body is empty or cannot be parsed at all."""

    status_code = 400


class PayloadTooLarge(BadInput):
    """The body, or the image it decodes to, is over the documented limit."""

    status_code = 413


class UnsupportedMediaType(BadInput):
    """The content type is not accepted, or the bytes are not a format the route reads."""

    status_code = 415


class Unprocessable(BadInput):
    """The input parsed but is invalid, or asks for something this environment lacks."""

    status_code = 422
