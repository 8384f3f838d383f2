"""What runs in a request's one threadpool hop, inside ``request_signalling()``: the viewset
and its ancestors (parent lookups), permissions, the action, and the JSON the result becomes.

:mod:`djfapi.endpoints` builds a :class:`Call` from what FastAPI parsed and hands it here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydantic_core
from django.db import models
from fastapi import Request
from pydantic import TypeAdapter

from djfapi.filters import ListQuery
from djfapi.pagination import BasePagination
from djfapi.schemas.fields import hidden_fields
from djfapi.schemas.reading import prepare
from djfapi.signalling import request_signalling

if TYPE_CHECKING:
    from djfapi.routers import BoundRoute, Registration
    from djfapi.viewsets.generic import GenericViewSet

__all__ = ["Call", "Renderer", "lookup_parent", "make_viewset", "run_action", "run_in_thread"]


@dataclass(frozen=True)
class Renderer:
    """Turns what an action returned into (status, JSON bytes); built once per route."""

    status_code: int
    schema: Any = None
    instance_schema: Any = None  # for @actions: what a returned model instance is answered with

    @functools.cached_property
    def adapter(self) -> TypeAdapter[Any] | None:
        return TypeAdapter(self.schema) if self.schema is not None else None

    @functools.cached_property
    def instance_adapter(self) -> TypeAdapter[Any] | None:
        return TypeAdapter(self.instance_schema) if self.instance_schema is not None else None

    def __call__(self, result: Any, granted: frozenset[str] = frozenset()) -> tuple[int, bytes | None]:
        """``granted``: the caller's scopes; fields declared with other scopes are left out."""
        if result is None:
            return 204, None
        use_instance_schema = (self.schema is None and self.instance_adapter is not None
                               and isinstance(result, models.Model))
        adapter = self.instance_adapter if use_instance_schema else self.adapter
        if adapter is None:
            return self.status_code, pydantic_core.to_json(result)
        schema = self.instance_schema if use_instance_schema else self.schema
        value = adapter.validate_python(prepare(schema, result), from_attributes=True)
        return self.status_code, adapter.dump_json(value, exclude=hidden_fields(schema, granted))


# -- the call, in the thread -----------------------------------------------------------------

@dataclass
class Call:
    """What the endpoint parsed for one request, handed to the thread."""

    route: BoundRoute
    request: Request
    kwargs: dict[str, Any]
    body: Any = None
    paginator: BasePagination | None = None
    params: dict[str, Any] = field(default_factory=dict)
    access: Any = None
    query: ListQuery | None = None




def make_viewset(registration: Registration, action: str, call: Call, access: Any, *,
                 nested_action: str | None = None) -> GenericViewSet:
    """A viewset of ``registration`` for ``call``; its ``parent`` is not looked up yet."""
    target = registration is call.route.registration
    return registration.viewset(
        request=call.request,
        action=action,
        kwargs=call.kwargs,
        parent_lookup_field=registration.parent_lookup_field,
        access=access,
        paginator=call.paginator if target else None,
        nested_action=nested_action,
        required_scopes=registration.required_scopes(call.route) if target else None,
        query=call.query if target else None,
    )


def lookup_parent(registration: Registration, call: Call, access: Any) -> Any:
    """The parent object of ``registration``'s viewset, looked up from the root down through
    each ancestor as a ``retrieve``: its permissions, its own ``get_queryset()`` and its object
    permissions. None at the root."""
    if registration.parent is None:
        return None
    viewset = make_viewset(registration.parent, "retrieve", call, access,
                           nested_action=call.route.action)
    viewset.required_scopes = call.route.registration.required_scopes(call.route)
    viewset.check_permissions()
    viewset.parent = lookup_parent(registration.parent, call, access)
    return viewset.get_object()


def run_action(call: Call) -> tuple[Any, GenericViewSet]:
    """Run the route's action on a fresh viewset; ORM work only, no rendering."""
    route = call.route
    viewset = make_viewset(route.registration, route.action, call, call.access)
    viewset.check_permissions()  # may refine viewset.access (DjangoModelPermissions)
    viewset.parent = lookup_parent(route.registration, call, viewset.access)
    if call.body is not None:
        viewset.check_body_scopes(call.body)
    return _run(viewset, call), viewset


def _run(viewset: GenericViewSet, call: Call) -> Any:
    route = call.route
    method = getattr(viewset, route.action)
    if route.extra is None:
        return method(call.body, **call.params) if call.body is not None else method(**call.params)
    if not route.extra.writes:
        return _call_extra(viewset, method, call)
    with viewset.atomic():
        return _call_extra(viewset, method, call)


def _call_extra(viewset: GenericViewSet, method: Callable[..., Any], call: Call) -> Any:
    if call.route.detail:
        return method(viewset.get_object(), **call.params)
    return method(**call.params)


def run_in_thread(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    """The request's one threadpool hop: all ORM work and rendering, inside the signalling."""
    with request_signalling():
        result, viewset = run_action(call)
        return render(result, viewset.access.granted if viewset.access is not None else frozenset())
