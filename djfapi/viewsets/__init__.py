"""Viewsets: ``GenericViewSet`` (state and hooks), one mixin per action, and their compositions."""

from djfapi.viewsets.actions import action
from djfapi.viewsets.generic import GenericViewSet
from djfapi.viewsets.mixins import (
    CreateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)

__all__ = ["GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet", "action"]


class ModelViewSet(
    CreateModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    GenericViewSet,
):
    """list, create, retrieve, update, partial_update and destroy."""


class ReadOnlyModelViewSet(RetrieveModelMixin, ListModelMixin, GenericViewSet):
    """list and retrieve."""
