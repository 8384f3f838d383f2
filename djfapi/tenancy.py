"""Tenancy: where a model keeps its tenant, how rows are limited to it, how new rows get it.

A viewset's ``tenant_field`` (``"tenant_id"`` by default) names the field. A model without it
reaches it through ForeignKeys (a department through ``company__tenant_id``). For a caller,
every queryset is limited to the caller's tenant, a new row is stamped with it, and the ids in
a body may only point at the tenant's rows::

    path = tenant_path(Department, "tenant_id")                     # "company__tenant_id"
    mine = limit_to_tenant(Department.objects.all(), path, access)  # rows of access.tenant_id
    stamp_tenant(company, "tenant_id", access)                      # company.tenant_id = ...
    tags = reference_queryset(Tag, "tenant_id", access)             # the tags a body may name

The viewset's hooks (``get_tenant_field``, ``set_tenant``, ``get_reference_queryset``) call
these; override the hooks, not these, to change tenancy for one viewset.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import models
from django.db.models import QuerySet

from djfapi.meta import concrete_field, field_path

__all__ = ["Caller", "farther_tenant_path", "limit_to_tenant", "reference_queryset", "stamp_tenant",
           "tenant_lookup", "tenant_path"]

# How many ForeignKeys a model may be from the one that keeps its tenant (a team's
# department__company__tenant_id) for tenancy to find it; a viewset of a model farther away
# names the path in tenant_field (register() says so).
TENANT_DEPTH = 6


class Caller(Protocol):
    """Whom a request serves, as far as tenancy asks (``djfapi.permissions.Access`` is one)."""

    @property
    def tenant_id(self) -> str | None:
        """The caller's tenant."""


def tenant_lookup(model: type[models.Model], field_name: str, depth: int = TENANT_DEPTH) -> str | None:
    """``field_name`` when ``model`` has it, else the shortest ForeignKey path to a model that
    does (``company__tenant_id``), else None."""
    return field_path(model, field_name, depth)  # stubs: a model class is hashable


def tenant_path(model: type[models.Model], tenant_field: str | None) -> str | None:
    """Where rows of ``model`` keep their tenant as ``tenant_field`` declares it: a path
    written with ``__`` as it is, a field name where :func:`tenant_lookup` finds it; None when
    tenancy does not apply to ``model``."""
    if tenant_field is None:
        return None
    if "__" in tenant_field:
        return tenant_field
    return tenant_lookup(model, tenant_field)


def farther_tenant_path(model: type[models.Model], tenant_field: str | None) -> str | None:
    """The path through required ForeignKeys to ``tenant_field`` of a ``model`` more than
    TENANT_DEPTH ForeignKeys away from it (where tenancy does not look: it finds none, or one
    through a nullable ForeignKey), else None."""
    if tenant_field is None or "__" in tenant_field:
        return None
    farther = field_path(model, tenant_field, 4 * TENANT_DEPTH)
    return farther if farther != tenant_lookup(model, tenant_field) else None


def limit_to_tenant(queryset: QuerySet[Any], path: str | None, caller: Caller | None) -> QuerySet[Any]:
    """``queryset`` limited to the rows whose ``path`` holds the caller's tenant; unchanged
    without a path (tenancy does not apply) or a caller (a route without security)."""
    if not path or caller is None:
        return queryset
    return queryset.filter(**{path: caller.tenant_id})


def stamp_tenant(instance: models.Model, tenant_field: str | None, caller: Caller | None) -> None:
    """Set the caller's tenant on ``instance`` when its model has ``tenant_field`` itself
    (one reaching it through a ForeignKey gets it from the row it points at)."""
    field = concrete_field(type(instance), tenant_field) if tenant_field else None
    if field is not None and caller is not None:
        setattr(instance, field.attname, caller.tenant_id)


def reference_queryset(model: type[models.Model], tenant_field: str | None,
                       caller: Caller | None) -> QuerySet[Any]:
    """The rows of ``model`` a body's ids may point at: its default manager's, limited to the
    caller's tenant when ``model`` has ``tenant_field`` or reaches it through ForeignKeys."""
    # A viewset whose rows reach the tenant through a path (company__tenant_id) names the
    # field at its end: other models are searched for that field.
    path = tenant_lookup(model, tenant_field.rpartition("__")[2]) if tenant_field else None
    return limit_to_tenant(model._default_manager.all(), path, caller)
