"""``DeclaredViewSet``: the class attributes a user sets, and the classmethods that read them
once, when ``router.register`` builds the routes and OpenAPI.

Hooks read at registration are classmethods named ``declared_*`` (``get_model`` and
``get_lookup_url_kwarg`` too: they shape the path); hooks run for each request are instance
methods named ``get_*`` on :class:`~djfapi.viewsets.generic.GenericViewSet`. A per-request hook
may refine what was declared for one caller (``get_response_schema(self)`` a narrower schema),
never widen it: OpenAPI shows the declared one.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from pydantic import BaseModel

from djfapi.conf import api_setting
from djfapi.django_filter import DjangoFilterSet
from djfapi.exceptions import ImproperlyConfigured
from djfapi.filters import FilterSet, Ordering, Search
from djfapi.pagination import BasePagination, LimitOffsetPagination, NoPagination
from djfapi.permissions.access import Scopes
from djfapi.permissions.base import ScopeSource, as_permission
from djfapi.permissions.jwt import JWTBearer
from djfapi.schemas import Schemas, partial_schema
from djfapi.schemas.fields import field_scopes, orm_name
from djfapi.schemas.plans import values_plan
from djfapi.schemas.types import is_model

__all__ = ["DeclaredViewSet", "check_hooks"]


class DeclaredViewSet:
    """Configuration of a viewset: set the attributes, or override a ``declared_*`` classmethod
    to work one out (it runs once, at registration)."""

    model: ClassVar[type[models.Model] | None] = None
    queryset: ClassVar[QuerySet[Any] | None] = None
    schemas: ClassVar[Schemas] = Schemas()
    lookup_field: ClassVar[str] = "pk"
    lookup_url_kwarg: ClassVar[str | None] = None
    parent_lookup_field: str | None = None
    pagination_class: ClassVar[type[BasePagination] | None] = LimitOffsetPagination
    permission_classes: ClassVar[list[Any]] = []
    security: ClassVar[JWTBearer | None] = None
    scopes: ClassVar[Scopes | None] = None
    tenant_field: ClassVar[str | None] = "tenant_id"
    filter_fields: ClassVar[Sequence[str] | str] = ()
    filterset_class: ClassVar[Any] = None
    search_fields: ClassVar[Sequence[str]] = ()
    ordering_fields: ClassVar[Sequence[str]] = ()
    ordering: ClassVar[Sequence[str]] = ()
    status_field: ClassVar[str] = "status"
    delete_status: ClassVar[Any] = None
    cache_control: ClassVar[str | None] = None
    aggregate_fields: ClassVar[Sequence[str]] = ()
    aggregate_group_by: ClassVar[Sequence[str]] = ()
    extra_query_params: ClassVar[Sequence[str]] = ()
    require_if_match: ClassVar[bool] = False
    max_nested_items: ClassVar[int] = 1000
    read_rows: ClassVar[str] = "auto"
    user_from_token: ClassVar[Any] = None  # None: DJFAPI["USER_FROM_TOKEN"] (see djfapi.permissions.users)

    @classmethod
    def get_model(cls) -> type[models.Model]:
        """Defaults to ``cls.model``, else the model of ``cls.queryset``; raises
        ImproperlyConfigured when neither is set (or they disagree)."""
        queryset_model = cls.queryset.model if isinstance(cls.queryset, QuerySet) else None
        if cls.queryset is not None and queryset_model is None:
            raise ImproperlyConfigured(
                f"{cls.__name__}.queryset must be a QuerySet, e.g. `queryset = Company.objects.all()`."
            )
        model = cls.model or queryset_model
        if model is None or not (isinstance(model, type) and issubclass(model, models.Model)):
            raise ImproperlyConfigured(
                f"{cls.__name__}.model must be a Django model class, e.g. `model = Company` "
                "(or set `queryset = Company.objects.filter(...)`)."
            )
        if queryset_model is not None and queryset_model is not model:
            raise ImproperlyConfigured(
                f"{cls.__name__}.queryset is of {queryset_model.__name__} but model is "
                f"{model.__name__}; drop model, or make them agree."
            )
        return model

    @classmethod
    def get_lookup_url_kwarg(cls) -> str:
        """Defaults to ``cls.lookup_url_kwarg`` or ``<model_name>_id``; names the path value."""
        return cls.lookup_url_kwarg or f"{cls.get_model()._meta.model_name}_id"

    @classmethod
    def get_lookup_model_field(cls) -> models.Field[Any, Any]:
        """The model field ``lookup_field`` names (the pk for ``"pk"``); it types the path value."""
        model = cls.get_model()
        if cls.lookup_field == "pk":
            return model._meta.pk
        try:
            return model._meta.get_field(cls.lookup_field)  # type: ignore[return-value]
        except FieldDoesNotExist:
            raise ImproperlyConfigured(
                f"{cls.__name__}.lookup_field = {cls.lookup_field!r} is not a field of "
                f"{model.__name__}; use 'pk' or a unique field's name."
            ) from None

    @classmethod
    def declared_schema(cls, action: str) -> Any:
        """The body schema of ``action`` from ``cls.schemas`` (None: the action takes no body)."""
        if action == "create":
            return cls.schemas.create
        if action == "update":
            return cls.schemas.update
        if action == "partial_update":
            return partial_schema(cls.schemas.update) if cls.schemas.update else None
        return None

    @classmethod
    def declared_read_path(cls, action: str = "list") -> str:
        """How ``action`` (``list`` or ``retrieve``) reads its rows with the declared schema
        (``read_rows``): ``"values"``, dicts of only the columns the schema names; or
        ``"instances: <why>"``, model instances with the related rows prefetched.
        ``read_rows = "auto"`` (the default) takes values where it can; ``"values"`` makes
        registration fail where the list cannot; ``"instances"`` always reads instances."""
        return _read_path(cls, action)  # type: ignore[arg-type]

    @classmethod
    def declared_response_schema(cls, action: str) -> Any:
        """The schema ``action`` answers rows with: ``schemas.list`` (or ``get``) for list, none
        for destroy and aggregate, else ``get`` (``@action`` s returning an instance included)."""
        if action in ("destroy", "aggregate"):
            return None
        return cls.schemas.list_item if action == "list" else cls.schemas.get

    @classmethod
    def declared_security(cls) -> JWTBearer | None:
        """Defaults to ``cls.security``; None on a nested viewset inherits the parent's."""
        return cls.security

    @classmethod
    def declared_scopes(cls) -> Scopes | None:
        """Defaults to ``cls.scopes``; None means a valid token is enough (or, on a nested
        viewset without ``security`` either, the parent's scopes: reads ``get``, writes ``patch``)."""
        return cls.scopes

    @classmethod
    def declared_scope_source(cls) -> ScopeSource | None:
        """Where the caller's scopes come from when not from the token: defaults to the
        :class:`~djfapi.permissions.base.ScopeSource` among ``permission_classes``
        (``DjangoModelPermissions``), else None (the token's scopes)."""
        sources = (as_permission(permission).scope_source() for permission in cls.permission_classes)
        return next((source for source in sources if source is not None), None)

    @classmethod
    def declared_filterset(cls) -> FilterSet:
        """Defaults to a ``FilterSet`` of ``filter_fields`` (plus ``status_field`` with
        ``delete_status``); ``filterset_class`` replaces it (a django-filter FilterSet works)."""
        return _filterset(cls)  # type: ignore[arg-type]

    @classmethod
    def declared_search(cls) -> Search | None:
        """Defaults to a ``Search`` over ``search_fields``; None without them."""
        fields = field_names(cls, "search_fields")
        return Search(cls.get_model(), fields) if fields else None

    @classmethod
    def declared_ordering(cls) -> Ordering:
        """Defaults to ``ordering_fields`` (what ``?order_by=`` accepts) and ``ordering``."""
        return _ordering(cls)  # type: ignore[arg-type]

    @classmethod
    def declared_extra_query_params(cls) -> Sequence[str]:
        """Defaults to ``cls.extra_query_params``: query parameters your hooks read from
        ``self.request.query_params`` themselves; any other undeclared one is a 422."""
        return cls.extra_query_params

    @classmethod
    def declared_pagination_class(cls) -> type[BasePagination]:
        """Defaults to ``cls.pagination_class`` when the viewset (or a base class of yours) sets
        it, else ``DJFAPI["DEFAULT_PAGINATION_CLASS"]``, else LimitOffsetPagination; ``None``
        set there means :class:`NoPagination`."""
        # "Set" means assigned in the body of a class other than DeclaredViewSet: its default
        # stands for "the project's", so `pagination_class = LimitOffsetPagination` written
        # in a viewset keeps LimitOffset whatever the project default is.
        if any("pagination_class" in vars(klass) for klass in cls.__mro__ if klass is not DeclaredViewSet):
            return cls.pagination_class or NoPagination
        return api_setting("DEFAULT_PAGINATION_CLASS") or cls.pagination_class or NoPagination

    @classmethod
    def find_parent_lookup_field(cls, parent_model: type[models.Model]) -> str:
        """``parent_lookup_field``, or the one ForeignKey from ``model`` to ``parent_model``."""
        model = cls.get_model()
        candidates = [field.name for field in model._meta.concrete_fields
                      if field.is_relation and field.related_model is parent_model]
        if cls.parent_lookup_field is not None:
            if cls.parent_lookup_field in candidates:
                return cls.parent_lookup_field
            raise ImproperlyConfigured(
                f"{cls.__name__}.parent_lookup_field = {cls.parent_lookup_field!r} is not a "
                f"ForeignKey from {model.__name__} to {parent_model.__name__}; "
                f"choose one of {candidates}."
            )
        if len(candidates) == 1:
            return candidates[0]
        problem = "has no ForeignKey" if not candidates else f"has several ForeignKeys {candidates}"
        raise ImproperlyConfigured(
            f"{model.__name__} {problem} to {parent_model.__name__}, so {cls.__name__} cannot be "
            f"nested under it; set {cls.__name__}.parent_lookup_field to the ForeignKey to use."
        )


# Hooks of earlier versions read at registration, and what replaced them.
_RENAMED = {"get_security": "declared_security", "get_scopes": "declared_scopes",
            "get_filterset": "declared_filterset", "get_search": "declared_search",
            "get_ordering": "declared_ordering", "get_pagination_class": "declared_pagination_class",
            "get_extra_query_params": "declared_extra_query_params"}
_PER_REQUEST = ("get_schema", "get_response_schema", "get_schema_context")
_CLASSMETHODS = ("get_model", "get_lookup_url_kwarg", *_RENAMED.values(), "declared_schema",
                 "declared_response_schema", "declared_scope_source")


def check_hooks(viewset: type[DeclaredViewSet]) -> None:
    """Raise ImproperlyConfigured for a hook overridden in the wrong form: a build-time one that
    is not a classmethod, a per-request one that is, or one under a name it no longer has."""
    name = viewset.__name__
    for old, new in _RENAMED.items():
        if hasattr(viewset, old):
            raise ImproperlyConfigured(
                f"{name}.{old} is read once, at registration, and is now called {new}: rename it "
                f"to `@classmethod def {new}(cls)`.")
    for hook in _CLASSMETHODS:
        if not inspect.ismethod(getattr(viewset, hook)):
            raise ImproperlyConfigured(
                f"{name}.{hook} must stay a classmethod: routes and OpenAPI are built from it "
                f"once, at registration. Decorate it with @classmethod.")
    for hook in _PER_REQUEST:
        if not inspect.isfunction(inspect.getattr_static(viewset, hook)):
            declared = {"get_schema": "declared_schema", "get_response_schema": "declared_response_schema"}
            instead = (f"; to change what is declared for every caller, override "
                       f"`@classmethod def {declared[hook]}(cls, action)`" if hook in declared else "")
            raise ImproperlyConfigured(
                f"{name}.{hook} runs for each request: write it as an instance method, "
                f"`def {hook}(self)`, reading self.action, self.access, self.request{instead}.")


# Hooks that see the rows an action reads: overriding one keeps them model instances.
_ROW_HOOKS = {"list": ("list", "paginate_queryset", "get_paginated_response"),
              "retrieve": ("retrieve", "get_object", "check_object_permissions", "get_permissions")}
_READ_ROWS = ("auto", "values", "instances")


@cache
def _read_path(viewset: type[DeclaredViewSet], action: str) -> str:
    if viewset.read_rows not in _READ_ROWS:
        raise ImproperlyConfigured(f"{viewset.__name__}.read_rows = {viewset.read_rows!r}: use one of "
                                   f"{', '.join(map(repr, _READ_ROWS))}.")
    reason = _needs_instances(viewset, action)
    if reason is not None and viewset.read_rows == "values" and action == "list":
        raise ImproperlyConfigured(f"{viewset.__name__}.read_rows = 'values', but {reason}; read "
                                   "instances (read_rows = 'auto' or 'instances') or change that.")
    return "values" if reason is None else f"instances: {reason}"


def _needs_instances(viewset: type[DeclaredViewSet], action: str) -> str | None:
    """Why ``action`` of ``viewset`` reads model instances, or None when it reads values."""
    if viewset.read_rows == "instances":
        return "read_rows = 'instances'"
    for hook in _ROW_HOOKS[action]:
        method = getattr(viewset, hook, None)
        if method is not None and not method.__module__.startswith("djfapi.viewsets."):
            return f"{hook}() is overridden (it may read the rows as instances)"
    if action == "retrieve" and viewset.permission_classes:
        return "permission_classes may check the row (has_object_permission)"
    pagination = viewset.declared_pagination_class()
    if action == "list" and pagination.paginate_queryset.__module__ != "djfapi.pagination":
        return f"{pagination.__name__}.paginate_queryset() is overridden (it may read the rows as instances)"
    schema = viewset.declared_response_schema(action)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return f"the {action} has no response schema"
    return values_plan(viewset.get_model(), schema).reason


@cache
def _filterset(viewset: type[DeclaredViewSet]) -> FilterSet:
    if viewset.filterset_class is not None:
        if hasattr(viewset.filterset_class, "base_filters"):  # django-filter's FilterSet
            return DjangoFilterSet(viewset.filterset_class)
        return viewset.filterset_class(viewset.get_model(), viewset.filter_fields)  # type: ignore[no-any-return]
    fields: Sequence[str] | str = viewset.filter_fields
    if fields == "__all__":  # not every column: the ones the get schema shows everyone
        fields = public_fields(viewset)
    elif isinstance(fields, str):
        field_names(viewset, "filter_fields")  # refused, naming the list to give
    if viewset.delete_status is not None and viewset.status_field not in fields:
        fields = [*fields, viewset.status_field]
    return FilterSet(viewset.get_model(), fields)


@cache
def _ordering(viewset: type[DeclaredViewSet]) -> Ordering:
    fields, default = field_names(viewset, "ordering_fields"), field_names(viewset, "ordering")
    return Ordering(viewset.get_model(), fields, default)


def field_names(viewset: type[DeclaredViewSet], attribute: str) -> list[str]:
    """The field names a list attribute of ``viewset`` holds. As in DRF, ``ordering`` may be
    one name and ``ordering_fields`` ``"__all__"``: the fields the get schema shows everyone
    (not one hidden by scopes, nor the tenant). Any other string is an ImproperlyConfigured."""
    value = getattr(viewset, attribute)
    if not isinstance(value, str):
        return list(value or ())
    if attribute == "ordering":
        return [value]
    if value == "__all__" and attribute == "ordering_fields":
        return public_fields(viewset)
    raise ImproperlyConfigured(f"{viewset.__name__}.{attribute} = {value!r} is one string; give a list "
                               f"of field names, e.g. [{value!r}].")


def public_fields(viewset: type[DeclaredViewSet]) -> list[str]:
    """The model's own columns the get schema shows every caller: no field with scopes, no
    column it does not show, never the tenant field."""
    schema = viewset.schemas.get
    fields = schema.model_fields.items() if schema is not None and is_model(schema) else ()
    shown = {orm_name(name, info) for name, info in fields if field_scopes(info) is None}
    return [field.name for field in viewset.get_model()._meta.concrete_fields
            if not field.is_relation and field.name in shown and field.name != viewset.tenant_field
            and field.attname != viewset.tenant_field]

