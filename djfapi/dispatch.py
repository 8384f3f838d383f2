"""What runs in a request's one threadpool hop, inside ``request_signalling()``: the viewset
and its ancestors (parent lookups), permissions, the action, and the JSON the result becomes.

:mod:`djfapi.endpoints` builds a :class:`Call` from what FastAPI parsed and hands it here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydantic_core
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db import router as db_router
from django.db.models import ForeignObjectRel, QuerySet
from django.http import Http404
from fastapi import Request
from pydantic import TypeAdapter

from djfapi.conditional import Conditions, etag
from djfapi.filters import ListQuery
from djfapi.pagination import BasePagination
from djfapi.permissions.access import Access
from djfapi.schemas.fields import hidden_fields
from djfapi.schemas.reading import prepare
from djfapi.schemas.saving import loaded_rows
from djfapi.schemas.writing import NestedRows
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
    access: Access | None = None
    query: ListQuery | None = None
    # The caller as each other security scheme on the path saw the token (ancestors with a
    # JWTBearer of their own); the route's own scheme gave ``access``.
    other_access: dict[int, Access | None] = field(default_factory=dict)
    conditions: Conditions | None = None  # If-Match / If-None-Match of a write on a row

    def access_for(self, registration: Registration) -> Access | None:
        """The caller as ``registration``'s security sees them, before any action's scopes."""
        if registration.security is None:
            return None
        if registration.security is self.route.registration.security:
            return self.access
        return self.other_access[id(registration.security)]


def make_viewset(registration: Registration, action: str, call: Call, access: Access | None, *,
                 nested_action: str | None = None,
                 required_scopes: tuple[str, ...] | None = None) -> GenericViewSet:
    """A viewset of ``registration`` for ``call``; its ``parent`` is not looked up yet."""
    target = registration is call.route.registration and nested_action is None
    return registration.viewset(
        request=call.request,
        action=action,
        kwargs=call.kwargs,
        parent_lookup_field=registration.parent_lookup_field,
        access=access,
        paginator=call.paginator if target else None,
        nested_action=nested_action,
        required_scopes=call.route.required_scopes if target else required_scopes,
        query=call.query if target else None,
        nesting=RegisteredNesting(registration, call),
        conditions=call.conditions if target else None,
    )


def lookup_parent(registration: Registration, call: Call) -> Any:
    """The parent object of ``registration``'s viewset, looked up from the root down through
    each ancestor as a ``retrieve`` of its own: its security, its scopes for retrieve (and so
    its own ``self.access.scope``), its permissions, its ``get_queryset()`` with its tenancy,
    and its object permissions. None at the root."""
    parent = None
    for ancestor in call.route.ancestors:
        access = granted(call.access_for(ancestor.registration), ancestor.scopes, ancestor.checks_scopes,
                         ancestor.denial)
        viewset = make_viewset(ancestor.registration, "retrieve", call, access,
                               nested_action=call.route.action, required_scopes=ancestor.scopes)
        viewset.check_permissions()
        viewset.parent, grandparent = parent, parent
        parent = viewset.get_object()
        if ancestor.inherited_scopes and not visible(
                ancestor.registration, call, ancestor.inherited_scopes, parent, grandparent):
            kwarg = viewset.get_lookup_url_kwarg()
            raise Http404(f"No {parent._meta.verbose_name} with {kwarg} {call.kwargs[kwarg]}.")
    return parent


def visible(registration: Registration, call: Call, scopes: tuple[str, ...] | None, obj: models.Model,
            parent: models.Model | None) -> bool:
    """Whether ``obj`` is in ``registration``'s ``get_queryset()`` for a caller granted by
    ``scopes`` (so with the selector of the one they hold), below ``parent``."""
    access = granted(call.access_for(registration), scopes, False, str)
    viewset = make_viewset(registration, "retrieve", call, access, nested_action=call.route.action,
                           required_scopes=scopes)
    viewset.parent = parent
    return viewset.get_queryset().filter(pk=obj.pk).exists()


def granted(access: Access | None, scopes: tuple[str, ...] | None, checked: bool,
            denial: Callable[[], str]) -> Access | None:
    """``access`` as an action granted by ``scopes`` sees it (its ``scope`` among them);
    PermissionDenied with ``denial()`` when ``checked`` and the caller holds none of them.
    ``scopes`` None: nothing grants the action; ``()``: any valid token does."""
    if access is None:
        return None
    access = access.for_action(scopes or ())
    if checked and (scopes is None or (scopes and not access.scopes)):
        raise PermissionDenied(denial())
    return access


def run_action(call: Call) -> tuple[Any, GenericViewSet]:
    """Run the route's action on a fresh viewset; ORM work only, no rendering."""
    route = call.route
    viewset = make_viewset(route.registration, route.action, call, call.access)
    viewset.check_permissions()  # may refine viewset.access (DjangoModelPermissions)
    viewset.parent = lookup_parent(route.registration, call)
    if call.body is not None:
        viewset.check_body_scopes(call.body)
    return _run(viewset, call), viewset


# -- nested rows written through a parent's body ----------------------------------------------

@dataclass(frozen=True)
class RegisteredNesting:
    """The viewsets registered below ``registration``, as nested lists in a body or a response
    of its viewset meet them during ``call`` (see :class:`~djfapi.viewsets.generic.Nesting`)."""

    registration: Registration
    call: Call

    def rows(self, viewset: GenericViewSet, instance: models.Model,
             relation: ForeignObjectRel) -> NestedRows | None:
        child = self.registration.child_for(relation.related_model, relation.field.name)
        return None if child is None else ChildRows(child, self.call, viewset, instance, relation)

    def querysets(self, viewset: GenericViewSet, paths: Sequence[str]) -> dict[str, QuerySet[Any]]:
        found = {}
        for path in paths:
            registration: Registration | None = self.registration
            model = self.registration.viewset.get_model()
            for part in path.split("__"):
                relation = model._meta.get_field(part)
                if registration is None or not relation.one_to_many:
                    registration = None
                    break
                registration = registration.child_for(relation.related_model, relation.field.name)
                model = relation.related_model
            if registration is not None:
                found[path] = listed(registration, self.call)
        return found


def listed(registration: Registration, call: Call) -> QuerySet[Any]:
    """What ``registration``'s list would show the caller (any parent): its scopes for list, its
    permissions, ``get_queryset()`` and ``filter_queryset()``; no rows when it would refuse."""
    required = registration.required_scopes("list", detail=False)
    checked = (registration.scopes is not None and registration.security is not None
               and not registration.checks_scopes_itself)
    model = registration.viewset.get_model()
    try:
        access = granted(call.access_for(registration), required, checked, str)
        viewset = make_viewset(registration, "list", call, access, nested_action=call.route.action,
                               required_scopes=required)
        viewset.check_permissions()
    except PermissionDenied:
        return model._default_manager.none()
    return viewset.filter_queryset(viewset.get_queryset())


# How each kind of change to a nested row is checked: as this action of the child's viewset.
_NESTED_ACTIONS = {"create": ("POST", False), "update": ("PUT", True), "destroy": ("DELETE", True)}
_NESTED_VERBS = {"create": "Creating", "update": "Changing", "destroy": "Deleting"}


class ChildRows:
    """A nested list written as the child's own routes would write it: each new row needs the
    child's ``create`` scopes and permissions and goes through its ``perform_create``; a
    changed row and a deleted one must be in the child's ``get_queryset()`` for that action
    and pass its object permissions, and go through ``perform_update`` / ``perform_destroy``."""

    def __init__(self, registration: Registration, call: Call, parent_viewset: GenericViewSet,
                 parent: models.Model, relation: ForeignObjectRel) -> None:
        self.registration, self.call, self.parent, self.relation = registration, call, parent, relation
        self.grandparent = parent_viewset.parent
        self.access = parent_viewset.access
        self.viewsets: dict[str, GenericViewSet] = {}
        self.visible: dict[str, set[Any]] = {}

    def viewset(self, action: str) -> GenericViewSet:
        """The child's viewset for ``action``, its scopes and permissions checked once."""
        if action not in self.viewsets:
            method, detail = _NESTED_ACTIONS[action]
            registration = self.registration
            if not self.routed(action):
                raise PermissionDenied(f"{self.doing(action)} through this body is not allowed: "
                                       f"the route of {self.noun} has no {action}.")
            required = registration.required_scopes(action, methods=(method,), detail=detail)
            checked = registration.scopes is not None and not registration.checks_scopes_itself
            access = self.access if registration.security is not None else None
            access = granted(access, required, checked, lambda: self.denial(action, required))
            self.check_parent(action, required)
            viewset = make_viewset(registration, action, self.call, access, required_scopes=required)
            viewset.parent = self.parent
            viewset.check_permissions()
            self.viewsets[action] = viewset
        return self.viewsets[action]

    def check_parent(self, action: str, required: tuple[str, ...] | None) -> None:
        """The child's own route would need the caller to read the parent (its retrieve scopes
        and queryset) and, with scopes inherited from it, to see it under the granting scope's
        selector (`update.own`): the same holds for a body."""
        link = self.registration.parent
        assert link is not None
        retrieve = link.required_scopes("retrieve")
        checked = (self.registration.check_parent_scopes and link.scopes is not None
                   and link.security is not None and not link.checks_scopes_itself)
        noun = link.viewset.get_model()._meta.verbose_name
        granted(self.call.access_for(link), retrieve, checked,
                lambda: f"{self.doing(action)} through this body needs reading the {noun}: "
                        f"{', '.join(retrieve or ())}.")
        inherited = required if self.registration.scopes_from is link and required != retrieve else None
        for scopes in (retrieve, inherited) if inherited else (retrieve,):
            if not visible(link, self.call, scopes, self.parent, self.grandparent):
                raise PermissionDenied(f"{self.doing(action)} through this body is not allowed: the "
                                       f"{noun} is not one the caller could reach them through.")

    @property
    def noun(self) -> str:
        return str(self.registration.viewset.get_model()._meta.verbose_name_plural)

    def routed(self, action: str) -> bool:
        """Whether the child's own route offers ``action`` (its method, and its schema if any)."""
        viewset = self.registration.viewset
        has_schema = action == "destroy" or viewset.get_schema(action) is not None
        return callable(getattr(viewset, action, None)) and has_schema

    def doing(self, action: str) -> str:
        return f"{_NESTED_VERBS[action]} {self.noun}"

    def denial(self, action: str, required: tuple[str, ...] | None) -> str:
        needs = f"one of the scopes {', '.join(required)}" if required else "a scope no one is granted"
        return f"{self.doing(action)} through this body needs {needs}."

    def check_row(self, action: str, row: models.Model, loc: tuple[Any, ...]) -> GenericViewSet:
        """The child's viewset for ``action`` on the existing ``row``, which it must be able to see."""
        viewset = self.viewset(action)
        if action not in self.visible:
            queryset = viewset.get_queryset().select_related(None).prefetch_related(None)
            self.visible[action] = set(queryset.values_list("pk", flat=True))
        if row.pk not in self.visible[action]:
            verb = "change" if action == "update" else "delete"
            raise PermissionDenied(f"You may not {verb} {row._meta.verbose_name} {row.pk} "
                                   f"({'.'.join(map(str, loc))}).")
        viewset.check_object_permissions(row)
        return viewset

    def existing(self) -> dict[Any, models.Model]:
        """The rows the caller sees in this list (what the child's list shows them): the body
        synchronises those, and leaves rows outside the caller's view as they are."""
        seen = listed(self.registration, self.call).values("pk")
        return loaded_rows(getattr(self.parent, self.relation.get_accessor_name()).filter(pk__in=seen))

    def server_owned(self, row: models.Model) -> Collection[str]:
        return self.viewset("create" if row._state.adding else "update").get_server_owned_fields()

    def save(self, row: models.Model, item: Any, loc: tuple[Any, ...]) -> None:
        viewset: Any  # with the mixins' perform_* hooks, as routed() made sure
        if row._state.adding:
            viewset = self.viewset("create")
            viewset.body_loc = loc
            viewset.set_server_owned_fields(row)
            viewset.perform_create(row)
        else:
            viewset = self.check_row("update", row, loc)
            viewset.body_loc = loc
            viewset.perform_update(row)
        viewset.get_writer().write_nested(row, item, loc=loc)

    def delete(self, row: models.Model, loc: tuple[Any, ...]) -> None:
        viewset: Any = self.check_row("destroy", row, loc)
        viewset.perform_destroy(row)


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
        instance = viewset.get_object_for_write() if call.route.writes else viewset.get_object()
        return method(instance, **call.params)
    return method(**call.params)


def run_in_thread(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    """The request's one threadpool hop: all ORM work and rendering, inside the signalling.
    A write and its rendering share one transaction: a response that cannot be built rolls
    the write back, so a client never gets a 500 for a change that was stored."""
    with request_signalling():
        if not call.route.writes:
            return _act(call, render)
        model = call.route.registration.viewset.get_model()
        with transaction.atomic(using=db_router.db_for_write(model)):
            return _act(call, render)


def _act(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    if call.conditions is not None:
        call.conditions = dataclasses.replace(call.conditions, current=current_etag(call))
    result, viewset = run_action(call)
    return render(result, viewset.access.granted if viewset.access is not None else frozenset())


def current_etag(call: Call) -> Callable[[Any, frozenset[str]], str]:
    """How the ETag of a row is worked out on ``call``'s route: from what its retrieve answers
    a caller granted the scopes given."""
    render = retrieve_renderer(call.route.registration.viewset)

    def current(row: Any, granted: frozenset[str]) -> str:
        return etag(render(row, granted)[1] or b"")

    return current


_retrieve_renderers: dict[type[GenericViewSet], Renderer] = {}


def retrieve_renderer(viewset: type[GenericViewSet]) -> Renderer:
    """What ``viewset``'s retrieve answers with; built once per viewset."""
    if viewset not in _retrieve_renderers:
        _retrieve_renderers[viewset] = Renderer(200, viewset.get_response_schema("retrieve"))
    return _retrieve_renderers[viewset]
