"""``GenericViewSet``: the hooks a request runs, on top of :class:`DeclaredViewSet`'s configuration.

One instance serves one call: the endpoint makes it inside the request's threadpool hop
with ``request``, ``action``, ``kwargs``, ``parent`` and ``access`` set, runs the action,
and drops it. Class state is never changed per call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.db import router as db_router
from django.db.models import ForeignObjectRel, QuerySet, prefetch_related_objects
from django.http import Http404
from pydantic import BaseModel
from starlette.requests import Request

from djfapi.conditional import Conditions
from djfapi.filters import ListQuery
from djfapi.pagination import BasePagination, NoPagination
from djfapi.permissions.access import Access
from djfapi.permissions.base import BasePermission, as_permission
from djfapi.schemas import OrmWriter, query_plan, server_owned_fields
from djfapi.schemas.fields import field_scopes, orm_name, unpermitted_fields
from djfapi.schemas.plans import ValuesPlan, values_plan
from djfapi.schemas.reading import QueryPlan, ReadRow
from djfapi.schemas.saving import fits_a_column, lock, stored_as_written
from djfapi.schemas.writing import NestedRows
from djfapi.tenancy import limit_to_tenant, reference_queryset, stamp_tenant, tenant_path
from djfapi.viewsets.declared import DeclaredViewSet
from djfapi.viewsets.lifecycle import RequestLifecycle

__all__ = ["GenericViewSet", "Nesting", "declared_tenant_path"]


class Nesting(Protocol):
    """What a viewset knows of the viewsets registered below it, for one request."""

    def rows(self, viewset: GenericViewSet, instance: models.Model,
             relation: ForeignObjectRel) -> NestedRows | None:
        """How a nested list of ``instance`` in ``viewset``'s body is written; None: plainly."""

    def querysets(self, viewset: GenericViewSet, paths: Sequence[str]) -> dict[str, QuerySet[Any]]:
        """The querysets the prefetch ``paths`` that lead to registered children read through."""


class GenericViewSet(RequestLifecycle, DeclaredViewSet):
    """State and hooks shared by every action; mixins add the actions themselves.

    Set the class attributes of :class:`DeclaredViewSet` (``model``, ``schemas``, ``scopes``,
    ``filter_fields``, ...). Override, per request (instance methods, as in DRF):
    ``get_queryset``, ``get_schema``, ``get_response_schema``, ``get_schema_context``,
    ``get_permissions``, ``get_object``, ``perform_create`` / ``perform_update`` /
    ``perform_destroy``, ``filter_queryset``; ``self.action``, ``self.access``,
    ``self.request``, ``self.kwargs`` and ``self.parent`` say who asks for what.
    """

    def __init__(
        self,
        *,
        request: Request | None = None,
        action: str | None = None,
        kwargs: dict[str, Any] | None = None,
        parent: models.Model | None = None,
        parent_lookup_field: str | None = None,
        access: Access | None = None,
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

    # -- per-request refinements of what was declared ----------------------------------------

    def get_schema(self) -> Any:
        """The body schema of this call's action: defaults to ``declared_schema(self.action)``.
        Return a narrower one to accept fewer fields from this caller; the body is validated
        against it, with :meth:`get_schema_context` as pydantic's ``info.context``."""
        return self.declared_schema(self.action or "")

    def get_response_schema(self) -> Any:
        """The schema this call answers rows with: defaults to
        ``declared_response_schema(self.action)``. Return a narrower one (a schema whose fields
        are among the declared one's) to show this caller less; OpenAPI shows the declared one."""
        return self.declared_response_schema(self.action or "")

    def get_schema_context(self) -> dict[str, Any]:
        """What pydantic validators and serializers of this call see as ``info.context``, as
        DRF's serializer context: the request, the viewset, the caller's access and the action."""
        return {"request": self.request, "viewset": self, "access": self.access, "action": self.action}

    # -- hooks run during a call -------------------------------------------------------------

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A ``get_queryset`` a subclass defines is wrapped in :meth:`restrict_queryset`: one
        written DRF's way, without ``super()``, still never reaches another parent's or another
        tenant's rows."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("get_queryset")
        if inspect.isfunction(own) and not getattr(own, "_restricted", False):
            cls.get_queryset = _restricted(own)  # type: ignore[method-assign,assignment]

    def get_queryset(self) -> QuerySet[Any]:
        """``cls.queryset`` (evaluated afresh for each call, as in DRF) or all rows of ``model``,
        limited by :meth:`restrict_queryset`, with the related rows the response reads fetched
        up front; override to narrow further (the limits hold for an override too)."""
        base = self.queryset if self.queryset is not None else self.get_model()._default_manager
        queryset = self.restrict_queryset(base.all())
        if self.nested_action is None:  # parent lookups answer nothing, so need nothing more
            queryset = self.optimize_queryset(queryset)
        return queryset

    def restrict_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` limited to the parent's rows when nested and to the caller's tenant."""
        if self.parent is not None and self.parent_lookup_field:
            queryset = queryset.filter(**{self.parent_lookup_field: self.parent})
        return limit_to_tenant(queryset, self.get_tenant_field(), self.access)

    def optimize_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Add the ``select_related``/``prefetch_related`` the action's response schema needs
        (worked out once per model and schema), so lists cost the same queries at any length.
        A nested list whose rows have a viewset registered below this one shows what that
        viewset's list would: its scopes, ``get_queryset()`` and ``filter_queryset()``."""
        plan = self.get_query_plan()
        return plan.apply(queryset, self.nested_querysets(plan)) if plan is not None else queryset

    def get_query_plan(self) -> QueryPlan | None:
        """What reading the action's response schema joins and prefetches; None without one."""
        schema = self.get_response_schema()
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return None
        return query_plan(self.get_model(), schema)

    def nested_querysets(self, plan: QueryPlan) -> dict[str, QuerySet[Any]]:
        """The querysets that prefetch paths of ``plan`` read through, by path (see
        :meth:`optimize_queryset`)."""
        return self.nesting.querysets(self, plan.prefetch_related) if self.nesting is not None else {}

    def refresh_related(self, instance: models.Model) -> None:
        """Read the related rows the response shows afresh, as a retrieve would (after a write)."""
        instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        plan = self.get_query_plan()  # create and update answer with the retrieve schema
        if plan is None and isinstance(schema := self.declared_response_schema("retrieve"), type):
            plan = query_plan(self.get_model(), schema)  # destroy's If-Match
        if plan is not None and plan.prefetch_related:
            prefetch_related_objects([instance], *plan.lookups(self.nested_querysets(plan)))

    def get_tenant_field(self) -> str | None:
        """Where the model keeps the tenant: ``tenant_field`` itself, or a path to it through
        ForeignKeys (``company__tenant_id`` for a department); rows are limited to the caller's."""
        return declared_tenant_path(type(self))

    def set_tenant(self, instance: models.Model) -> None:
        """Set the caller's tenant on a new ``instance`` whose model has the tenant field."""
        stamp_tenant(instance, self.tenant_field, self.access)

    def get_required_scopes(self) -> tuple[str, ...] | None:
        """The scopes that grant this call's action (from ``declared_scopes()``, resolved per route)."""
        return self.required_scopes

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow a list by the request's filters and search, leave out soft-deleted rows
        (unless the filters ask for them), and order it."""
        filterset = self.declared_filterset()
        queryset = filterset.filter_queryset(queryset, self.query.filters)
        if self.delete_status is not None and not filterset.asks_for(self.query.filters, self.status_field):
            queryset = queryset.exclude(**{self.status_field: self.delete_status})
        search = self.declared_search()
        if search is not None:
            queryset = search.filter_queryset(queryset, self.query.search)
        return self.declared_ordering().order(queryset, self.query.order_by, self.query.keep_order)

    def get_object(self) -> Any:
        """The row the path names, from ``get_queryset()``; 404 when that does not hold it."""
        value = self.kwargs[self.get_lookup_url_kwarg()]
        try:
            if not fits_a_column(value):  # no row has it, and SQLite could not even compare it
                raise ObjectDoesNotExist
            obj = self.get_queryset().get(**{self.lookup_field: value})
        except ObjectDoesNotExist:
            raise self.not_found(value) from None
        self.check_object_permissions(obj)
        return obj

    def read_object(self) -> Any:
        """The row a retrieve answers: read as the dict of the columns its schema names when
        :meth:`get_values_plan` has a plan (no hook needs the instance), else :meth:`get_object`."""
        queryset = self.get_queryset()
        plan = self.get_values_plan(queryset)
        if plan is None:
            return self.get_object()
        value = self.kwargs[self.get_lookup_url_kwarg()]
        if not fits_a_column(value):
            raise self.not_found(value)
        found = plan.rows(list(plan.values(queryset.filter(**{self.lookup_field: value}))[:2]), queryset)
        if len(found) > 1:  # as QuerySet.get() says it
            raise MultipleObjectsReturned(f"More than one {self.get_model()._meta.object_name} has "
                                          f"{self.lookup_field} {value}.")
        if not found:
            raise self.not_found(value)
        return ReadRow(found[0])

    def not_found(self, value: Any) -> Http404:
        """The 404 of a path value no row of ``get_queryset()`` has."""
        noun = self.get_model()._meta.verbose_name
        return Http404(f"No {noun} with {self.get_lookup_url_kwarg()} {value}.")

    def get_object_for_write(self) -> Any:
        """The row an update or delete changes: :meth:`get_object`, and when the request sends
        ``If-Match`` / ``If-None-Match``, locked and read again inside the write's transaction
        and checked against them (412 when stale; see :mod:`djfapi.conditional`)."""
        obj = self.get_object()
        if self.conditions is not None:
            lock(obj)
            obj.refresh_from_db()
            self.refresh_related(obj)
            self.conditions.check_write(obj)
        return obj

    def reread(self, instance: models.Model) -> None:
        """After a write, read back :meth:`get_reread_fields` and the related rows the response
        shows, so the response is what a retrieve answers and its ETag that of the row as stored."""
        if fields := self.get_reread_fields(instance):
            instance.refresh_from_db(fields=fields)
        self.refresh_related(instance)
        self.read_annotations(instance)

    def read_annotations(self, instance: models.Model) -> None:
        """Set on ``instance`` what ``get_queryset()`` annotates and the response schema names
        (``department_total``) as it is now (after a create, or an update of nested rows)."""
        schema = self.get_response_schema()
        is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
        fields = schema.model_fields.items() if is_model else ()
        columns = {name for field in instance._meta.concrete_fields for name in (field.name, field.attname)}
        names = [name for name in (orm_name(*field) for field in fields)  # what no model attribute is
                 if name not in columns and not hasattr(type(instance), name)]
        if not names:
            return
        queryset = self.get_queryset().select_related(None).prefetch_related(None)
        found = [name for name in names if name in queryset.query.annotation_select]
        row = queryset.filter(pk=instance.pk).values(*found).first() if found else None
        for name in found if row is not None else ():
            setattr(instance, name, row[name])  # type: ignore[index]

    def get_reread_fields(self, instance: models.Model) -> list[str]:
        """The columns read back after a write. After an update, every column (another request
        may have changed those this one did not write). After a create, those whose stored value
        may differ from what was written (a decimal the column rounds, normalised JSON, a database
        default or expression, a custom field); override when a trigger changes a new row."""
        new = self.action == "create"
        return [field.attname for field in instance._meta.concrete_fields
                if not field.is_relation and field.attname in instance.__dict__
                and not (new and stored_as_written(field, instance.__dict__[field.attname]))]

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Any:
        """The rows of the requested page, fetched by ``self.paginator``: as dicts of the columns
        the response schema names when :meth:`get_values_plan` has a plan, else as instances."""
        plan = self.get_values_plan(queryset)
        if plan is None:
            return self.paginator.paginate_queryset(queryset)
        self.paginator.read_rows = plan.read  # the page only: COUNT and filters see no joins
        return plan.rows(self.paginator.paginate_queryset(queryset), queryset)

    def get_values_plan(self, queryset: QuerySet[Any]) -> ValuesPlan | None:
        """How this call's list or retrieve reads ``queryset`` without model instances (see
        ``declared_read_path()``); None: it reads instances. Follows ``get_response_schema()``."""
        if self.action not in ("list", "retrieve") or self.declared_read_path(self.action) != "values":
            return None
        schema = self.get_response_schema()
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return None
        plan = values_plan(self.get_model(), schema)
        return plan if plan.usable(queryset) else None

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
        return reference_queryset(model, self.tenant_field, self.access)

    def get_writer(self) -> OrmWriter:
        """What writes bodies onto instances, checking ids with ``get_reference_queryset``."""
        return OrmWriter(self.get_reference_queryset, self.set_nested_server_owned_fields, self.tenant_field,
                         rows_for=self.get_nested_rows, granted=self.access.granted if self.access else ())

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

    def get_withheld_fields(self, data: BaseModel) -> set[str]:
        """The model fields behind ``data``'s fields whose scopes the caller lacks: a ``PUT``
        leaves them as stored, rather than writing their defaults (sending one is a 403)."""
        granted = self.access.granted if self.access is not None else frozenset()
        return {orm_name(name, info) for name, info in type(data).model_fields.items()
                if (scopes := field_scopes(info)) is not None and not set(scopes) & granted}

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
    return tenant_path(viewset.get_model(), viewset.tenant_field)


def _restricted(get_queryset: Callable[[GenericViewSet], QuerySet[Any]],
                ) -> Callable[[GenericViewSet], QuerySet[Any]]:
    @functools.wraps(get_queryset)
    def restricted(self: GenericViewSet) -> QuerySet[Any]:
        return self.restrict_queryset(get_queryset(self))

    restricted._restricted = True  # type: ignore[attr-defined]
    return restricted
