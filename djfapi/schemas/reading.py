"""Reading model instances into response schemas, and the queries a schema needs.

:func:`transfer_from_orm` walks a schema and the instance side by side: fields are read by
name, related managers become lists, methods are called, nested schemas recurse. The result
is plain data that pydantic validates. :func:`query_plan` works out, from the schema alone,
the ``select_related`` and ``prefetch_related`` that make reading a list cost the same number
of queries however long it is.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Prefetch
from pydantic import BaseModel

from djfapi.schemas.fields import field_options, orm_name
from djfapi.schemas.types import collection_item, is_model, nested_model, optional_inner

__all__ = ["QueryPlan", "orm_data", "prepare", "query_plan", "transfer_from_orm"]


def _read(obj: Any, name: str) -> Any:
    value = getattr(obj, name)
    if isinstance(value, models.Manager):  # a reverse ForeignKey or many-to-many
        return list(value.all())
    if inspect.ismethod(value):
        return value()
    return value


def transfer_from_orm(schema: type[BaseModel], obj: Any) -> BaseModel:
    """An instance of ``schema`` read from ``obj`` (djdantic's name)."""
    return schema.model_validate(orm_data(schema, obj))


def orm_data(schema: type[BaseModel], obj: Any) -> dict[str, Any]:
    """The fields of ``schema`` read from ``obj`` (a model instance or any object), as plain data."""
    data = {}
    for name, field in schema.model_fields.items():
        method = field_options(field).orm_method
        if method is not None:
            value = method(obj)
        else:
            attribute = orm_name(name, field)
            if not hasattr(obj, attribute):
                continue  # left to the field's default, or reported by pydantic as missing
            value = _read(obj, attribute)
        key = field.alias if isinstance(field.alias, str) and not schema.model_config.get(
            "populate_by_name") else name
        data[key] = prepare(field.annotation, value)
    return data


def prepare(annotation: Any, value: Any) -> Any:
    """``value`` made ready to validate as ``annotation``: model instances read into dicts."""
    if value is None or isinstance(value, BaseModel):
        return value
    inner = optional_inner(annotation)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):  # e.g. `Out | list[Out]`
        many = isinstance(value, (list, tuple, set, models.Manager))
        for member in typing.get_args(inner):
            if member is not type(None) and (collection_item(member) is not None) == many:
                return prepare(member, value)
        return value
    if isinstance(value, models.Model) and not is_model(inner):
        return value.pk  # a related row read as its id (``tags: list[int]``)
    if is_model(inner):
        if isinstance(value, dict):
            return {key: prepare(_annotation_of(inner, key), item) for key, item in value.items()}
        return orm_data(inner, value)
    item = collection_item(annotation)
    if item is not None and not isinstance(value, (str, bytes, dict)):
        if isinstance(value, models.Manager):
            value = value.all()
        return [prepare(item, element) for element in value]
    return value


def _annotation_of(schema: type[BaseModel], key: str) -> Any:
    field = schema.model_fields.get(key)
    return field.annotation if field is not None else Any


class QueryPlan(tuple[tuple[str, ...], tuple[str, ...]]):
    """(select_related paths, prefetch_related paths)."""

    @property
    def select_related(self) -> tuple[str, ...]:
        return self[0]

    @property
    def prefetch_related(self) -> tuple[str, ...]:
        return self[1]

    def lookups(self, querysets: Mapping[str, models.QuerySet[Any]] | None = None,
                ) -> list[str | Prefetch[Any, Any, Any]]:
        """The prefetch lookups, those named in ``querysets`` read through that queryset."""
        querysets = querysets or {}
        return [Prefetch(path, queryset=querysets[path]) if path in querysets else path
                for path in self.prefetch_related]

    def apply(self, queryset: models.QuerySet[Any],
              querysets: Mapping[str, models.QuerySet[Any]] | None = None) -> models.QuerySet[Any]:
        """``queryset`` joining and prefetching what the schema reads; a prefetch path named in
        ``querysets`` reads only that queryset's rows (a registered child viewset's)."""
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.lookups(querysets))
        return queryset


@functools.lru_cache(maxsize=1024)  # bounded: a hook may make schemas per call
def query_plan(model: type[models.Model], schema: type[BaseModel]) -> QueryPlan:
    """The related rows reading ``schema`` from ``model`` touches: joined when single, prefetched
    when many. Properties and methods are not followed; add what they need in ``get_queryset``."""
    select: list[str] = []
    prefetch: list[str] = []
    _plan(model, schema, "", False, select, prefetch)
    return QueryPlan((tuple(select), tuple(prefetch)))


def _plan(
    model: type[models.Model], schema: type[BaseModel], prefix: str, in_prefetch: bool,
    select: list[str], prefetch: list[str],
) -> None:
    for name, info in schema.model_fields.items():
        try:
            field = model._meta.get_field(orm_name(name, info))
        except FieldDoesNotExist:
            continue
        if not field.is_relation or field.related_model is None:
            continue
        nested = nested_model(info.annotation)
        single = field.many_to_one or field.one_to_one
        if nested is None and single:
            continue  # read as the id the row already holds
        path = prefix + name
        if single and not in_prefetch:
            select.append(path)
        else:
            prefetch.append(path)  # also lists of ids (``tags: list[int]``)
        if nested is not None:
            _plan(field.related_model, nested[0], path + "__", in_prefetch or not single,
                  select, prefetch)
