"""One request's call, inside its threadpool hop, and the viewsets it makes on the way.

:class:`Call` is what the endpoint parsed. A request runs its route's action on a viewset of
the route's registration, and looks at other registrations as their own routes would: each
ancestor as a ``retrieve`` (:func:`lookup_parent`), a nested list as the child's ``list``
(:func:`listed`). :func:`granted` is the caller as each of them sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from fastapi import Request, Response

from djfapi.conditional import Conditions
from djfapi.filters import ListQuery
from djfapi.pagination import BasePagination
from djfapi.permissions.access import Access
from djfapi.routes import BoundRoute, Registration
from djfapi.viewsets.generic import GenericViewSet, Nesting
from djfapi.viewsets.lifecycle import NotPaginated

if TYPE_CHECKING:
    from djfapi.permissions.base import ScopeSource

__all__ = ["Call", "granted", "listed", "lookup_parent", "make_viewset", "visible"]


@dataclass
class Call:
    """What the endpoint parsed for one request, handed to the thread."""

    route: BoundRoute
    request: Request
    kwargs: dict[str, Any]
    body: Any = None  # the JSON of the body, validated in the hop (see dispatch.validated_body)
    uploads: dict[str, Any] = field(default_factory=dict)  # a form's files, by schema field name
    paginator: BasePagination | None = None
    params: dict[str, Any] = field(default_factory=dict)
    access: Access | None = None
    query: ListQuery | None = None
    # The caller as each other security scheme on the path saw the token (ancestors with a
    # JWTBearer of their own); the route's own scheme gave ``access``.
    other_access: dict[int, Access | None] = field(default_factory=dict)
    conditions: Conditions | None = None  # If-Match / If-None-Match of a write on a row
    # What each scope source granted the caller, looked up once a request.
    sourced: dict[tuple[int, str | None], frozenset[str]] = field(default_factory=dict)
    # What the hop hands back beside the JSON: the viewset's headers and status, or a Response
    # the action returned (sent as it is).
    headers: dict[str, str] = field(default_factory=dict)
    status_code: int | None = None
    response: Response | None = None

    def access_for(self, registration: Registration) -> Access | None:
        """The caller as ``registration``'s security sees them, before any action's scopes."""
        if registration.security is None:
            return None
        if registration.security is self.route.registration.security:
            return self.access
        return self.other_access[id(registration.security)]

    def scopes_from(self, source: ScopeSource, access: Access) -> frozenset[str]:
        """What ``source`` grants the caller; looked up once for this request."""
        key = (id(source), access.user_id)
        if key not in self.sourced:
            self.sourced[key] = source.granted_scopes(access)
        return self.sourced[key]


def make_viewset(registration: Registration, action: str, call: Call, access: Access | None, *,
                 nested_action: str | None = None, required_scopes: tuple[str, ...] | None = None,
                 nesting: Nesting | None = None) -> GenericViewSet:
    """A viewset of ``registration`` for ``call``; its ``parent`` is not looked up yet."""
    target = registration is call.route.registration and nested_action is None
    viewset = registration.viewset(
        request=call.request,
        action=action,
        kwargs=call.kwargs,
        parent_lookup_field=registration.parent_lookup_field,
        access=access,
        paginator=call.paginator if target else None,
        nested_action=nested_action,
        required_scopes=required_scopes,
        query=call.query if target else None,
        nesting=nesting,
        conditions=call.conditions if target else None,
    )
    extra = call.route.extra
    if target and extra is not None and action == call.route.action:
        for name, value in extra.overrides.items():  # DRF's initkwargs: for this action only
            setattr(viewset, name, value)
        if not extra.paginated:
            viewset.paginator = NotPaginated(f"{registration.viewset.__name__}.{extra.name}")
    return viewset


def granted(call: Call, registration: Registration, access: Access | None, scopes: tuple[str, ...] | None,
            checked: bool, denial: Callable[[], str]) -> Access | None:
    """``access`` as an action of ``registration`` granted by ``scopes`` sees it: holding what
    its scope source grants, if it has one, and with ``scope`` among ``scopes``.
    PermissionDenied with ``denial()`` when ``checked`` and the caller holds none of them.
    ``scopes`` None: nothing grants the action; ``()``: any valid token does."""
    if access is None:
        return None
    if registration.scope_source is not None:
        access = access.with_granted(call.scopes_from(registration.scope_source, access))
    access = access.for_action(scopes or ())
    if checked and (scopes is None or (scopes and not access.scopes)):
        raise PermissionDenied(denial())
    return access


def lookup_parent(call: Call) -> Any:
    """The parent object of the route's viewset, looked up from the root down through each
    ancestor as a ``retrieve`` of its own: its security, its scopes for retrieve (and so its
    own ``self.access.scope``), its permissions, its ``get_queryset()`` with its tenancy, and
    its object permissions. None at the root."""
    parent = None
    for ancestor in call.route.ancestors:
        registration = ancestor.registration
        access = granted(call, registration, call.access_for(registration), ancestor.scopes,
                         ancestor.checks_scopes, ancestor.denial)
        viewset = make_viewset(registration, "retrieve", call, access,
                               nested_action=call.route.action, required_scopes=ancestor.scopes)
        viewset.check_permissions()
        viewset.parent, grandparent = parent, parent
        parent = viewset.get_object()
        if ancestor.inherited_scopes and not visible(
                registration, call, ancestor.inherited_scopes, parent, grandparent):
            kwarg = viewset.get_lookup_url_kwarg()
            raise Http404(f"No {parent._meta.verbose_name} with {kwarg} {call.kwargs[kwarg]}.")
    return parent


def visible(registration: Registration, call: Call, scopes: tuple[str, ...] | None, obj: models.Model,
            parent: models.Model | None) -> bool:
    """Whether ``obj`` is in ``registration``'s ``get_queryset()`` for a caller granted by
    ``scopes`` (so with the selector of the one they hold), below ``parent``."""
    access = granted(call, registration, call.access_for(registration), scopes, False, str)
    viewset = make_viewset(registration, "retrieve", call, access, nested_action=call.route.action,
                           required_scopes=scopes)
    viewset.parent = parent
    return viewset.get_queryset().filter(pk=obj.pk).exists()


def listed(registration: Registration, call: Call) -> QuerySet[Any]:
    """What ``registration``'s list would show the caller (any parent): its scopes for list, its
    permissions, ``get_queryset()`` and ``filter_queryset()``; no rows when it would refuse."""
    required = registration.granting["list"]
    model = registration.viewset.get_model()
    try:
        access = granted(call, registration, call.access_for(registration), required,
                         registration.checks_scopes, str)
        viewset = make_viewset(registration, "list", call, access, nested_action=call.route.action,
                               required_scopes=required)
        viewset.check_permissions()
    except PermissionDenied:
        return model._default_manager.none()
    return viewset.filter_queryset(viewset.get_queryset())
