""":func:`djfapi.request_signalling` where 0.0.x kept it (``djfapi.utils.fastapi_django``)."""

from djfapi.signalling import request_signalling

__all__ = ["request_signalling"]
