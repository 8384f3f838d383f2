"""Viewsets: ``GenericViewSet`` (state and hooks), one mixin per action, and their compositions."""

from djfapi.viewsets.actions import action
from djfapi.viewsets.generic import GenericViewSet
from djfapi.viewsets.mixins import (
    AggregateModelMixin,
    CreateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)
from djfapi.viewsets.plain import ViewSet

__all__ = ["GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet", "ViewSet", "action"]


class ModelViewSet(
    CreateModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    AggregateModelMixin,
    GenericViewSet,
):
    """list, create, retrieve, update, partial_update, destroy (and aggregate, when
    ``aggregate_fields`` are declared)."""


class ReadOnlyModelViewSet(RetrieveModelMixin, ListModelMixin, AggregateModelMixin, GenericViewSet):
    """list and retrieve (and aggregate, when ``aggregate_fields`` are declared)."""
