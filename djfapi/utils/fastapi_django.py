"""djfapi 0.0.x's import path of :mod:`djfapi.compat.signalling`, kept so old code runs."""

from djfapi.compat.signalling import request_signalling

__all__ = ["request_signalling"]
