"""djfapi 0.0.x's import path of :mod:`djfapi.compat.routing`, kept so old code runs."""

from djfapi.compat.routing import Method, SecurityScopes

__all__ = ["Method", "SecurityScopes"]
