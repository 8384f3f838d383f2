"""``ViewSet``: a viewset without a model, its actions written by hand, as DRF's ``ViewSet``.

::

    class HealthViewSet(ViewSet):
        security = token
        permission_classes = [IsStaff]

        def list(self) -> list[Check]:                  # GET /health
            return [Check(name=name, ok=probe()) for name, probe in PROBES.items()]

        def retrieve(self, pk: str) -> Check:           # GET /health/{pk}
            return Check(name=pk, ok=PROBES[pk]())

        @action(detail=False, methods=["post"])
        def reset(self) -> None: ...

``list``, ``create``, ``retrieve``, ``update``, ``partial_update`` and ``destroy`` are routed
when defined, and read like ``@action`` s: their parameters are the endpoint's, their return
annotation (or ``response_model``-less: plain JSON) what it answers. A detail method receives
the path value (``lookup_url_kwarg``, ``pk`` by default, a string) instead of an instance.
A ViewSet cannot be nested, nor have viewsets nested below it: it has no rows to look up.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, transaction
from django.db.models import QuerySet

from djfapi.exceptions import ImproperlyConfigured
from djfapi.viewsets.actions import ExtraAction
from djfapi.viewsets.generic import GenericViewSet

__all__ = ["HAND_WRITTEN", "ViewSet", "hand_written_actions", "is_model_less"]

# The methods a ViewSet routes when it defines them: (name, HTTP method, detail, status).
HAND_WRITTEN: tuple[tuple[str, str, bool, int], ...] = (
    ("list", "GET", False, 200), ("create", "POST", False, 201), ("retrieve", "GET", True, 200),
    ("update", "PUT", True, 200), ("partial_update", "PATCH", True, 200), ("destroy", "DELETE", True, 200),
)


class ViewSet(GenericViewSet):
    """A viewset with no model: write ``list``, ``retrieve``, ... and ``@action`` s yourself;
    security, scopes, ``permission_classes``, ``initial()`` and ``finalize_response()`` apply."""

    lookup_url_kwarg: ClassVar[str | None] = "pk"
    pagination_class = None
    tenant_field: ClassVar[str | None] = None
    lookup_value_passed: ClassVar[bool] = True  # detail methods get the path value, not an instance

    @classmethod
    def get_lookup_url_kwarg(cls) -> str:
        """Defaults to ``cls.lookup_url_kwarg``, ``pk``: the name of the detail path value (a str)."""
        return cls.lookup_url_kwarg or "pk"

    @classmethod
    def get_lookup_model_field(cls) -> models.Field[Any, Any]:
        """A text field: the path value of a ViewSet is a string."""
        return models.CharField()

    def get_queryset(self) -> QuerySet[Any]:
        raise ImproperlyConfigured(f"{type(self).__name__} is a ViewSet without a model: it has no "
                                   "queryset; use a ModelViewSet (or GenericViewSet) for one.")

    def get_object(self) -> Any:
        """The detail path value, handed to a detail method in place of an instance."""
        return self.kwargs[self.get_lookup_url_kwarg()]

    def get_object_for_write(self) -> Any:
        return self.get_object()

    def atomic(self) -> transaction.Atomic:
        """A transaction on the default database."""
        return transaction.atomic(savepoint=False)


def is_model_less(viewset: type) -> bool:
    """Whether ``viewset`` is a :class:`ViewSet` (no model)."""
    return isinstance(viewset, type) and issubclass(viewset, ViewSet)


def hand_written_actions(viewset: type[ViewSet]) -> list[tuple[ExtraAction, int]]:
    """The hand-written ``list`` / ``retrieve`` / ... of ``viewset`` as actions at the
    collection or detail path itself, each with its status code."""
    found = []
    for name, method, detail, status in HAND_WRITTEN:
        func = getattr(viewset, name, None)
        if callable(func):
            found.append((ExtraAction(name, detail, (method,), "", None, None, func, url_name=name), status))
    return found
