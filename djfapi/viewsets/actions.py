"""``@action``: extra routes on a viewset, beside the model actions.

::

    @action(detail=True, methods=["post"])
    def archive(self, instance):
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance          # answered with the `get` schema

    @action(detail=False, response_model=Summary)
    def summary(self, year: int | None = None):   # extra parameters work as in FastAPI
        return {"count": self.get_queryset().count()}

A detail action receives the object a retrieve would return, checks included, as ``instance``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from djfapi.permissions.access import ScopeList, scope_tuple

__all__ = ["ExtraAction", "action"]

_MARK = "_djfapi_action"


@dataclass(frozen=True)
class ExtraAction:
    """What ``@action`` recorded about one method."""

    name: str
    detail: bool
    methods: tuple[str, ...]
    path: str
    scopes: tuple[str, ...] | None
    response_model: type[BaseModel] | Any | None
    func: Callable[..., Any]

    @property
    def writes(self) -> bool:
        """Whether a method other than GET/HEAD/OPTIONS is allowed, so the action runs atomically."""
        return any(method not in ("GET", "HEAD", "OPTIONS") for method in self.methods)


def action(
    *,
    detail: bool,
    methods: Sequence[str] = ("get",),
    path: str | None = None,
    scopes: ScopeList | None = None,
    response_model: Any = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a viewset method as an extra route at ``<prefix>[/{id}]/<path>``. ``scopes``
    grant it when the viewset's ``Scopes`` do not name it (``ANY_VALID_TOKEN``: any token)."""
    granting = scope_tuple(scopes, "@action", "scopes") if scopes is not None else None

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, _MARK, ExtraAction(
            name=func.__name__,
            detail=detail,
            methods=tuple(method.upper() for method in methods),
            path=(path or func.__name__).strip("/"),
            scopes=granting,
            response_model=response_model,
            func=func,
        ))
        return func

    return decorator


def extra_actions(viewset: type) -> list[ExtraAction]:
    """The ``@action`` methods of ``viewset`` (inherited ones included), in name order."""
    return [
        getattr(member, _MARK)
        for _, member in inspect.getmembers(viewset, inspect.isfunction)
        if hasattr(member, _MARK)
    ]
