"""djfapi 0.0.x's import path of :mod:`djfapi.compat.jwt`, kept so old code runs."""

from djfapi.compat.jwt import JWTToken

__all__ = ["JWTToken"]
