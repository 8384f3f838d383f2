"""djfapi: the Django ORM served through FastAPI with class-based, DRF-style viewsets."""

from djfapi.exceptions import install
from djfapi.routers import Router
from djfapi.schemas import Schemas
from djfapi.signalling import request_signalling
from djfapi.viewsets import GenericViewSet, ModelViewSet, ReadOnlyModelViewSet, action

__all__ = [
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "Router",
    "Schemas",
    "action",
    "install",
    "request_signalling",
]
