"""djfapi 0.0.x import path of :func:`djfapi.request_signalling`; kept so old code runs."""

from djfapi.signalling import request_signalling

__all__ = ["request_signalling"]
