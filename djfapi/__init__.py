"""djfapi: the Django ORM served through FastAPI with class-based, DRF-style viewsets."""

__version__ = "0.1.0.dev0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)

from djfapi.exceptions import install
from djfapi.routers import Router
from djfapi.schemas import Schemas
from djfapi.signalling import request_signalling
from djfapi.viewsets import GenericViewSet, ModelViewSet, ReadOnlyModelViewSet, ViewSet, action

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
