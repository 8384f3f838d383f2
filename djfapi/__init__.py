"""djfapi: the Django ORM served through FastAPI with class-based, DRF-style viewsets."""

from importlib import metadata as _metadata

from djfapi.exceptions import install
from djfapi.routers import Router
from djfapi.schemas import Schemas
from djfapi.signalling import request_signalling
from djfapi.viewsets import GenericViewSet, ModelViewSet, ReadOnlyModelViewSet, ViewSet, action

try:
    __version__ = _metadata.version("djfapi")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "Router",
    "Schemas",
    "ViewSet",
    "action",
    "install",
    "request_signalling",
]
