"""What djfapi reads from a Django model's ``_meta``: fields by name, ``__`` paths, value types.

The bottom floor of djfapi: it imports only Django, :mod:`djfapi.exceptions` and pydantic's
``JsonValue`` (the type of a JSONField's value), so schemas, filters, tenancy and endpoints all
read models the same way::

    concrete_field(Department, "company_id")         # the ForeignKey ``company``
    walk(Company, "departments__name")               # [Company.departments (reverse), Department.name]
    field_path(Team, "tenant_id")                    # "department__company__tenant_id"
    python_type(Costcenter._meta.get_field("kind"))  # Literal["opex", "capex"]
    path_value_type(Office._meta.pk)                 # uuid.UUID
"""

from __future__ import annotations

import datetime
import decimal
import functools
import uuid
from typing import Any, Literal, TypeAlias

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import ForeignObjectRel
from pydantic import JsonValue

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["concrete_field", "field_path", "many_to_many", "path_value_type", "python_type",
           "reverse_relation", "value_type", "walk"]

# A field of any kind ``_meta.get_field`` answers: a model field, or the reverse side of a relation.
AnyField: TypeAlias = "models.Field[Any, Any] | ForeignObjectRel"


def concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any] | None:
    """The concrete field ``name`` (a field name or an attname like ``company_id``) writes."""
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    return None


def reverse_relation(model: type[models.Model], name: str) -> ForeignObjectRel | None:
    """The reverse ForeignKey whose accessor is ``name`` (``departments``, ``team_set``)."""
    for relation in model._meta.related_objects:
        if relation.one_to_many and relation.get_accessor_name() == name:
            return relation
    return None


def many_to_many(model: type[models.Model], name: str) -> models.ManyToManyField[Any, Any] | None:
    """The many-to-many field ``name`` declared on ``model`` (not the reverse side)."""
    for field in model._meta.many_to_many:
        if field.name == name:
            return field
    return None


def walk(model: type[models.Model], path: str) -> list[AnyField]:
    """The fields ``path`` (``name``, ``company``, ``departments__name``) passes through from
    ``model``, in order. The walk ends at the first field that is not a relation, as Django
    reads what follows it as a lookup or transform (``created_at__year``)."""
    fields: list[AnyField] = []
    current: type[models.Model] | None = model
    for part in path.split("__"):
        if current is None:
            break
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            known = ", ".join(sorted(field.name for field in current._meta.get_fields()))
            where = "" if part == path else f"{path!r} does not name a field of {model.__name__}: "
            raise ImproperlyConfigured(
                f"{where}{part!r} is not a field of {current.__name__} (its fields: {known})."
            ) from None
        fields.append(field)
        current = field.related_model if field.is_relation else None
    return fields


@functools.cache
def field_path(model: type[models.Model], name: str, depth: int = 3) -> str | None:
    """``name`` when ``model`` has that concrete field, else the shortest path through at most
    ``depth`` ForeignKeys (or one-to-one fields) to a model that has it
    (``company__tenant_id``), else None. A path whose ForeignKeys are all required wins over
    one through a nullable ForeignKey (a row's owner, not a reference it may lose), however
    long; of two paths alike, the first field wins."""
    if concrete_field(model, name) is not None:
        return name
    paths: list[tuple[str, type[models.Model], bool]] = [("", model, True)]
    seen = {(model, True)}  # a model reached again (as required or not) is reached the long way
    fallback = None
    for _ in range(depth):
        found = [(f"{prefix}{field.name}__", field.related_model, required and not field.null)
                 for prefix, current, required in paths for field in current._meta.concrete_fields
                 if (field.many_to_one or (field.one_to_one and field.concrete))
                 and isinstance(field.related_model, type)]
        paths = []
        for path in found:
            if (path[1], path[2]) not in seen:
                seen.add((path[1], path[2]))
                paths.append(path)
        for prefix, current, required in paths:
            if concrete_field(current, name) is not None:
                if required:
                    return f"{prefix}{name}"
                fallback = fallback or f"{prefix}{name}"
    return fallback


# The Python type of a value of each field class, a subclass before its base class.
_TYPES: tuple[tuple[type[models.Field[Any, Any]], Any], ...] = (
    (models.BooleanField, bool),
    (models.UUIDField, uuid.UUID),
    (models.DecimalField, decimal.Decimal),
    (models.DateTimeField, datetime.datetime),  # before DateField, its base class
    (models.DateField, datetime.date),
    (models.TimeField, datetime.time),
    (models.DurationField, datetime.timedelta),
    (models.IntegerField, int),  # AutoFields and every integer field
    (models.FloatField, float),
    (models.JSONField, JsonValue),
    (models.BinaryField, bytes),
    (models.CharField, str),
    (models.TextField, str),
    (models.GenericIPAddressField, str),
    (models.FilePathField, str),
    (models.FileField, str),
)


def _column(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """The field whose values ``field`` holds: a ForeignKey's target (again, when that is one)."""
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field  # type: ignore[attr-defined]
    return field


def value_type(field: models.Field[Any, Any]) -> Any | None:
    """The Python type of a value of ``field`` (a ForeignKey's is its target's), choices
    aside; None for a field class djfapi knows no type of."""
    column = _column(field)
    return next((annotation for field_class, annotation in _TYPES if isinstance(column, field_class)), None)


def python_type(field: models.Field[Any, Any]) -> Any:
    """The Python type a value of ``field`` has: :func:`value_type`, a ``Literal`` of the
    values for a field with choices; ImproperlyConfigured when djfapi knows none."""
    column = _column(field)
    if column.choices:
        return Literal[tuple(value for value, _ in column.flatchoices)]
    annotation = value_type(column)
    if annotation is None:
        raise ImproperlyConfigured(
            f"schema_for: no type known for {type(column).__name__} "
            f"{column.model.__name__}.{column.name}; write that schema field by hand."
        )
    return annotation


def path_value_type(field: models.Field[Any, Any]) -> type:
    """The type of a URL path value that names ``field``: int, UUID, or str for any other
    (a pk that is a ForeignKey types as its target does)."""
    annotation = value_type(field)
    return annotation if annotation in (int, uuid.UUID) else str
