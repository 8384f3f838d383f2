"""``GenericViewSet``: the class attributes a user sets, their ``get_*`` hooks, and request state.

One instance serves one call: the endpoint makes it inside the request's threadpool hop
with ``request``, ``action``, ``kwargs``, ``parent`` and ``access`` set, runs the action,
and drops it. Class state is never changed per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar, Protocol

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.db import router as db_router
from django.db.models import ForeignObjectRel, QuerySet, prefetch_related_objects
from django.http import Http404
from pydantic import BaseModel
from starlette.requests import Request

from djfapi.conditional import Conditions
from djfapi.exceptions import ImproperlyConfigured
from djfapi.filters import DjangoFilterSet, FilterSet, ListQuery, Ordering, Search
from djfapi.pagination import BasePagination, LimitOffsetPagination, NoPagination
from djfapi.permissions.access import Scopes
from djfapi.permissions.base import BasePermission, as_permission
from djfapi.permissions.jwt import JWTBearer
from djfapi.schemas import OrmWriter, Schemas, partial_schema, query_plan, server_owned_fields
from djfapi.schemas.fields import unpermitted_fields
from djfapi.schemas.reading import QueryPlan
from djfapi.schemas.saving import fits_a_column, lock
from djfapi.schemas.writing import NestedRows, concrete_field, tenant_lookup

__all__ = ["GenericViewSet", "Nesting", "declared_tenant_path"]


class Nesting(Protocol):
    """What a viewset knows of the viewsets registered below it, for one request."""

    def rows(self, viewset: GenericViewSet, instance: models.Model,
             relation: ForeignObjectRel) -> NestedRows | None:
        """How a nested list of ``instance`` in ``viewset``'s body is written; None: plainly."""

    def querysets(self, viewset: GenericViewSet, paths: Sequence[str]) -> dict[str, QuerySet[Any]]:
        """The querysets the prefetch ``paths`` that lead to registered children read through."""


class GenericViewSet:
    """State and hooks shared by every action; mixins add the actions themselves."""

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

    def __init__(
        self,
        *,
        request: Request | None = None,
        action: str | None = None,
        kwargs: dict[str, Any] | None = None,
        parent: models.Model | None = None,
        parent_lookup_field: str | None = None,
        access: Any = None,
        paginator: BasePagination | None = None,
        nested_action: str | None = None,
        required_scopes: tuple[str, ...] | None = None,
        query: ListQuery | None = None,
        nesting: Nesting | None = None,
        conditions: Conditions | None = None,
    ) -> None:
        self.request = request
        self.action = action
        self.kwargs = kwargs or {}
        self.parent = parent
        self.access = access
        self.paginator = paginator or NoPagination()
        self.nested_action = nested_action
        self.required_scopes = required_scopes
        self.query = query or ListQuery()
        self.body_loc: tuple[Any, ...] = ("body",)  # where in the request body this viewset writes
        self.nesting = nesting
        self.conditions = conditions
        if parent_lookup_field is not None:
            self.parent_lookup_field = parent_lookup_field

    # -- configuration read when routes are built ------------------------------------------

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
    def get_lookup_model_field(cls) -> models.Field:
        """The model field ``lookup_field`` names (the pk for ``"pk"``); it types the path value."""
        model = cls.get_model()
        if cls.lookup_field == "pk":
            return model._meta.pk  # type: ignore[return-value]
        try:
            return model._meta.get_field(cls.lookup_field)  # type: ignore[return-value]
        except FieldDoesNotExist:
            raise ImproperlyConfigured(
                f"{cls.__name__}.lookup_field = {cls.lookup_field!r} is not a field of "
                f"{model.__name__}; use 'pk' or a unique field's name."
            ) from None

    @classmethod
    def get_schema(cls, action: str) -> type[BaseModel] | None:
        """The body schema of ``action`` from ``cls.schemas`` (None: the action takes no body)."""
        if action == "create":
            return cls.schemas.create
        if action == "update":
            return cls.schemas.update
        if action == "partial_update":
            return partial_schema(cls.schemas.update) if cls.schemas.update else None
        return None

    @classmethod
    def get_response_schema(cls, action: str) -> type[BaseModel] | None:
        """The schema ``action`` answers with: ``schemas.list`` (or ``get``) for list, none for
        destroy and aggregate, else ``get``."""
        if action in ("destroy", "aggregate"):
            return None
        return cls.schemas.list_item if action == "list" else cls.schemas.get

    @classmethod
    def get_security(cls) -> JWTBearer | None:
        """Defaults to ``cls.security``; None on a nested viewset inherits the parent's."""
        return cls.security

    @classmethod
    def get_scopes(cls) -> Scopes | None:
        """Defaults to ``cls.scopes``; None means a valid token is enough (or, on a nested
        viewset without ``security`` either, the parent's scopes: reads ``get``, writes ``patch``)."""
        return cls.scopes

    @classmethod
    def get_filterset(cls) -> FilterSet:
        """Defaults to a ``FilterSet`` of ``filter_fields`` (plus ``status_field`` with
        ``delete_status``); ``filterset_class`` replaces it (a django-filter FilterSet works)."""
        return _filterset(cls)  # type: ignore[arg-type]

    @classmethod
    def get_search(cls) -> Search | None:
        """Defaults to a ``Search`` over ``search_fields``; None without them."""
        return Search(cls.get_model(), cls.search_fields) if cls.search_fields else None

    @classmethod
    def get_ordering(cls) -> Ordering:
        """Defaults to ``ordering_fields`` (what ``?order_by=`` accepts) and ``ordering``."""
        return _ordering(cls)  # type: ignore[arg-type]

    @classmethod
    def get_extra_query_params(cls) -> Sequence[str]:
        """Defaults to ``cls.extra_query_params``: query parameters your hooks read from
        ``self.request.query_params`` themselves; any other undeclared one is a 422."""
        return cls.extra_query_params

    @classmethod
    def get_pagination_class(cls) -> type[BasePagination]:
        """Defaults to ``cls.pagination_class``; ``None`` there means :class:`NoPagination`."""
        return cls.pagination_class or NoPagination

    @classmethod
    def find_parent_lookup_field(cls, parent_model: type[models.Model]) -> str:
        """``parent_lookup_field``, or the one ForeignKey from ``model`` to ``parent_model``."""
        model = cls.get_model()
        candidates = [
            field.name
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is parent_model
        ]
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

    # -- hooks run during a call -------------------------------------------------------------

    def get_queryset(self) -> QuerySet[Any]:
        """``cls.queryset`` (evaluated afresh for each call, as in DRF) or all rows of ``model``,
        limited to the parent's when nested and to the caller's tenant, with the related rows
        the response reads fetched up front; override to narrow further."""
        base = self.queryset if self.queryset is not None else self.get_model()._default_manager
        queryset = base.all()
        if self.parent is not None and self.parent_lookup_field:
            queryset = queryset.filter(**{self.parent_lookup_field: self.parent})
        tenant_field = self.get_tenant_field()
        if tenant_field is not None and self.access is not None:
            queryset = queryset.filter(**{tenant_field: self.access.tenant_id})
        if self.nested_action is None:  # parent lookups answer nothing, so need nothing more
            queryset = self.optimize_queryset(queryset)
        return queryset

    def optimize_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Add the ``select_related``/``prefetch_related`` the action's response schema needs
        (worked out once per model and schema), so lists cost the same queries at any length.
        A nested list whose rows have a viewset registered below this one shows what that
        viewset's list would: its scopes, ``get_queryset()`` and ``filter_queryset()``."""
        plan = self.get_query_plan()
        return plan.apply(queryset, self.nested_querysets(plan)) if plan is not None else queryset

    def get_query_plan(self) -> QueryPlan | None:
        """What reading the action's response schema joins and prefetches; None without one."""
        schema = self.get_response_schema(self.action or "")
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return None
        return query_plan(self.get_model(), schema)  # type: ignore[arg-type]

    def nested_querysets(self, plan: QueryPlan) -> dict[str, QuerySet[Any]]:
        """The querysets that prefetch paths of ``plan`` read through, by path (see
        :meth:`optimize_queryset`)."""
        return self.nesting.querysets(self, plan.prefetch_related) if self.nesting is not None else {}

    def refresh_related(self, instance: models.Model) -> None:
        """Read the related rows the response shows afresh, as a retrieve would (after a write)."""
        instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        plan = self.get_query_plan()  # create and update answer with the retrieve schema
        if plan is None and isinstance(schema := self.get_response_schema("retrieve"), type):
            plan = query_plan(self.get_model(), schema)  # type: ignore[arg-type]  # destroy's If-Match
        if plan is not None and plan.prefetch_related:
            prefetch_related_objects([instance], *plan.lookups(self.nested_querysets(plan)))

    def get_tenant_field(self) -> str | None:
        """Where the model keeps the tenant: ``tenant_field`` itself, or a path to it through
        ForeignKeys (``company__tenant_id`` for a department); rows are limited to the caller's."""
        return declared_tenant_path(type(self))

    def set_tenant(self, instance: models.Model) -> None:
        """Set the caller's tenant on a new ``instance`` whose model has the tenant field."""
        field = self.tenant_field and concrete_field(type(instance), self.tenant_field)
        if field and self.access is not None:
            setattr(instance, field.attname, self.access.tenant_id)

    def get_required_scopes(self) -> tuple[str, ...] | None:
        """The scopes that grant this call's action (from ``get_scopes()``, resolved per route)."""
        return self.required_scopes

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow a list by the request's filters and search, leave out soft-deleted rows
        (unless the filters ask for them), and order it."""
        filterset = self.get_filterset()
        queryset = filterset.filter_queryset(queryset, self.query.filters)
        if self.delete_status is not None and not filterset.asks_for(self.query.filters, self.status_field):
            queryset = queryset.exclude(**{self.status_field: self.delete_status})
        search = self.get_search()
        if search is not None:
            queryset = search.filter_queryset(queryset, self.query.search)
        return self.get_ordering().order(queryset, self.query.order_by)

    def get_object(self) -> Any:
        """The row the path names, from ``get_queryset()``; 404 when that does not hold it."""
        lookup_url_kwarg = self.get_lookup_url_kwarg()
        value = self.kwargs[lookup_url_kwarg]
        model = self.get_model()
        try:
            if not fits_a_column(value):  # no row has it, and SQLite could not even compare it
                raise model.DoesNotExist
            obj = self.get_queryset().get(**{self.lookup_field: value})
        except model.DoesNotExist:
            raise Http404(f"No {model._meta.verbose_name} with {lookup_url_kwarg} {value}.") from None
        self.check_object_permissions(obj)
        return obj

    def get_object_for_write(self) -> Any:
        """The row an update or delete changes: :meth:`get_object`, and when the request sends
        ``If-Match`` / ``If-None-Match``, locked and read again inside the write's transaction
        and checked against them (412 when stale; see :mod:`djfapi.conditional`)."""
        obj = self.get_object()
        if self.conditions is not None:
            lock(obj)
            obj.refresh_from_db()
            self.refresh_related(obj)
            self.conditions.check_write(obj, self.access.granted if self.access is not None else frozenset())
        return obj

    def reread(self, instance: models.Model) -> None:
        """After a write, read the row's columns (but its foreign keys) and related rows back,
        so the response is what a retrieve answers: the database's decimals, defaults and
        triggers included, and its ETag that of the row as stored."""
        fields = [field.attname for field in instance._meta.concrete_fields
                  if not field.is_relation and field.attname in instance.__dict__]
        if fields:
            instance.refresh_from_db(fields=fields)
        self.refresh_related(instance)

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Any:
        """The rows of the requested page, fetched by ``self.paginator``."""
        return self.paginator.paginate_queryset(queryset)

    def get_paginated_response(self, items: Any) -> dict[str, Any]:
        """The list response body around ``items``."""
        return self.paginator.get_paginated_response(items)

    def get_permissions(self) -> list[BasePermission]:
        """Defaults to instances of ``cls.permission_classes``."""
        return [as_permission(permission) for permission in self.permission_classes]

    def check_permissions(self) -> None:
        """Raise PermissionDenied (403) unless every permission grants the call."""
        for permission in self.get_permissions():
            if (message := permission.denial(self)) is not None:
                self.permission_denied(message)

    def check_object_permissions(self, obj: Any) -> None:
        """Raise PermissionDenied (403) unless every permission grants the call on ``obj``."""
        for permission in self.get_permissions():
            if (message := permission.denial(self, obj)) is not None:
                self.permission_denied(message)

    def permission_denied(self, message: str) -> None:
        """Deny the call (403) with ``message``."""
        raise PermissionDenied(message)

    def get_server_owned_fields(self) -> set[str]:
        """Fields a body never sets: the pk (a natural one is taken on create), auto_now and
        non-editable fields and, when nested, the ForeignKey to the parent."""
        owned = server_owned_fields(self.get_model(), creating=self.action == "create")
        if self.parent_lookup_field:
            owned.add(self.parent_lookup_field)
        if self.tenant_field:
            owned.add(self.tenant_field)
        return owned

    def set_server_owned_fields(self, instance: models.Model) -> None:
        """Set what the server owns on a new ``instance``: the parent and the tenant."""
        if self.parent is not None and self.parent_lookup_field:
            setattr(instance, self.parent_lookup_field, self.parent)
        self.set_tenant(instance)

    def get_reference_queryset(self, model: type[models.Model]) -> QuerySet[Any]:
        """The rows of ``model`` a body's ids may point at: its default manager, limited to the
        caller's tenant when ``model`` has the tenant field or reaches it through ForeignKeys."""
        queryset = model._default_manager.all()
        lookup = self.tenant_field and tenant_lookup(model, self.tenant_field)  # type: ignore[arg-type]
        if lookup and self.access is not None:
            queryset = queryset.filter(**{lookup: self.access.tenant_id})
        return queryset

    def get_writer(self) -> OrmWriter:
        """What writes bodies onto instances, checking ids with ``get_reference_queryset``."""
        return OrmWriter(self.get_reference_queryset, self.set_nested_server_owned_fields,
                         self.tenant_field, rows_for=self.get_nested_rows)

    def get_nested_rows(self, instance: models.Model, relation: ForeignObjectRel) -> NestedRows | None:
        """How the rows of a nested list in this viewset's body are written: through the viewset
        registered for them below this one (its scopes, permissions and hooks), or, when there
        is none (None), by this viewset's rules with :meth:`set_nested_server_owned_fields`."""
        return self.nesting.rows(self, instance, relation) if self.nesting is not None else None

    def set_nested_server_owned_fields(self, instance: models.Model) -> None:
        """Stamp what the server owns on a nested row saved through this viewset's body that no
        viewset of its own is registered for (new rows: ``instance._state.adding``). Defaults
        to the caller's tenant on new rows; override to set a creator or a timestamp."""
        if instance._state.adding:
            self.set_tenant(instance)

    def check_body_scopes(self, data: BaseModel | list[BaseModel]) -> None:
        """Raise PermissionDenied (403) when the body sets a field whose scopes the caller lacks."""
        granted = self.access.granted if self.access else frozenset()
        items = data if isinstance(data, list) else [data]
        denied = [name for item in items for name in unpermitted_fields(item, granted)]
        if denied:
            raise PermissionDenied(f"Setting {', '.join(denied)} needs a scope you do not hold.")

    def validate_instance(self, instance: models.Model) -> None:
        """Model validation before a save: 422 for invalid values, 409 for uniqueness, located
        at ``self.body_loc`` (``["body", "reviews", 0]`` for a nested row)."""
        self.get_writer().validate(instance, loc=self.body_loc, hidden=self.get_server_owned_fields())

    def atomic(self) -> transaction.Atomic:
        """A transaction on the database ``model`` is written to; every write runs in one. It
        joins the request's transaction when there is one (no savepoint: a failure rolls the
        whole request back); use ``transaction.atomic()`` for a savepoint of your own."""
        return transaction.atomic(using=db_router.db_for_write(self.get_model()), savepoint=False)


def declared_tenant_path(viewset: type[GenericViewSet]) -> str | None:
    """Where rows of ``viewset``'s model keep their tenant (``tenant_id``, ``company__tenant_id``),
    as ``tenant_field`` declares it; None when tenancy does not apply to the model."""
    if viewset.tenant_field is None:
        return None
    if "__" in viewset.tenant_field:
        return viewset.tenant_field
    return tenant_lookup(viewset.get_model(), viewset.tenant_field)  # type: ignore[arg-type]


@cache
def _filterset(viewset: type[GenericViewSet]) -> FilterSet:
    if viewset.filterset_class is not None:
        if hasattr(viewset.filterset_class, "base_filters"):  # django-filter's FilterSet
            return DjangoFilterSet(viewset.filterset_class)
        return viewset.filterset_class(viewset.get_model(), viewset.filter_fields)  # type: ignore[no-any-return]
    fields = viewset.filter_fields
    if viewset.delete_status is not None and fields != "__all__" and viewset.status_field not in fields:
        fields = [*fields, viewset.status_field]
    return FilterSet(viewset.get_model(), fields)


@cache
def _ordering(viewset: type[GenericViewSet]) -> Ordering:
    return Ordering(viewset.get_model(), viewset.ordering_fields, viewset.ordering)
