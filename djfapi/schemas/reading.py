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
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Prefetch
from django.db.models.fields.files import FieldFile
from django.db.models.query_utils import DeferredAttribute
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from djfapi.schemas.fields import field_options, orm_name
from djfapi.schemas.types import collection_item, is_model, nested_model, optional_inner, strip_annotated

__all__ = ["QueryPlan", "ReadRow", "Rows", "orm_data", "prepare", "query_plan", "reader", "transfer_from_orm"]


class ReadRow(dict[str, Any]):
    """A row read by a values plan: already what its schema takes."""


class Rows(list[Any]):
    """Rows read by a values plan (:mod:`djfapi.schemas.plans`): already what their schema takes."""


def _read(obj: Any, name: str) -> Any:
    value = getattr(obj, name)
    if isinstance(value, models.Manager):  # a reverse ForeignKey or many-to-many
        return list(value.all())
    if inspect.ismethod(value):
        return value()
    if isinstance(value, FieldFile):  # a file reads as its storage's URL; no file as None
        return value.url if value else None
    return value


def transfer_from_orm(schema: type[BaseModel], obj: Any) -> BaseModel:
    """An instance of ``schema`` read from ``obj`` (djdantic's name)."""
    return schema.model_validate(orm_data(schema, obj))


def input_key(schema: type[BaseModel], name: str, field: FieldInfo) -> str:
    """The key field ``name`` of ``schema`` is validated from: its validation alias or alias,
    unless names are taken."""
    config = schema.model_config
    by_name = config.get("populate_by_name") or config.get("validate_by_name")
    if by_name or config.get("validate_by_alias") is False:
        return name
    alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
    return alias if isinstance(alias, str) else name


def orm_data(schema: type[BaseModel], obj: Any) -> dict[str, Any]:
    """The fields of ``schema`` read from ``obj`` (a model instance or any object), as plain data."""
    return reader(schema, type(obj))(obj)  # type: ignore[arg-type]


_Step = tuple[str, str, Callable[..., Any] | None, bool, Callable[[Any], Any] | None]


@functools.lru_cache(maxsize=4096)  # bounded: a hook may make schemas per call
def reader(schema: type[BaseModel], cls: type) -> Callable[[Any], dict[str, Any]]:
    """How ``schema``'s fields are read from an object of ``cls``, worked out once: per field
    its key, the attribute (or ``orm_method``), whether the attribute is a plain column, and
    how its value is made ready (None: as it is)."""
    steps: list[_Step] = []
    for name, info in schema.model_fields.items():
        method = field_options(info).orm_method
        attribute = orm_name(name, info)
        column = method is None and type(getattr(cls, attribute, None)) is DeferredAttribute
        convert = None if column and not _mentions_model(info.annotation) else _converter(info.annotation)
        steps.append((input_key(schema, name, info), attribute, method, column, convert))

    def read(obj: Any) -> dict[str, Any]:
        data = {}
        for key, attribute, method, column, convert in steps:
            if method is not None:
                value = method(obj)
            elif column:
                value = getattr(obj, attribute)
            elif hasattr(obj, attribute):
                value = _read(obj, attribute)
            else:
                continue  # left to the field's default, or reported by pydantic as missing
            data[key] = value if convert is None or value is None else convert(value)
        return data

    return read


def prepare(annotation: Any, value: Any) -> Any:
    """``value`` made ready to validate as ``annotation``: model instances read into dicts."""
    try:
        convert = converter(annotation)
    except TypeError:  # an annotation that cannot be a cache key: worked out this once
        return _prepare(annotation, value)
    return value if value is None else convert(value)


@functools.lru_cache(maxsize=4096)
def converter(annotation: Any) -> Callable[[Any], Any]:
    """How a value of a field annotated ``annotation`` is made ready, worked out once."""
    inner = optional_inner(annotation)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):  # e.g. `Out | list[Out]`
        return functools.partial(_prepare, annotation)
    if is_model(inner):
        return functools.partial(_model_data, inner)
    item = collection_item(annotation)
    if item is None:
        return _id_of_row
    each = _converter(item)

    def many(value: Any) -> Any:
        if type(value) is Rows or isinstance(value, str | bytes | dict):
            return value
        if isinstance(value, models.Manager):
            value = value.all()
        return [None if element is None else each(element) for element in value]

    return many


def _converter(annotation: Any) -> Callable[[Any], Any]:
    try:
        return converter(annotation)
    except TypeError:  # an annotation that cannot be a cache key
        return functools.partial(_prepare, annotation)


def _id_of_row(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value  # ``tags: list[int]``


def _model_data(schema: type[BaseModel], value: Any) -> Any:
    if type(value) is ReadRow or isinstance(value, BaseModel):
        return value
    if isinstance(value, dict):
        return {key: prepare(_annotation_of(schema, key), item) for key, item in value.items()}
    return reader(schema, type(value))(value)  # type: ignore[arg-type]


def _mentions_model(annotation: Any) -> bool:
    annotation = strip_annotated(annotation)
    return is_model(annotation) or any(_mentions_model(arg) for arg in typing.get_args(annotation))


def _prepare(annotation: Any, value: Any) -> Any:
    """:func:`prepare` worked out afresh: for unions (``Out | list[Out]``), which depend on the
    value, and for annotations that cannot be a cache key."""
    if value is None or isinstance(value, BaseModel):
        return value
    inner = optional_inner(annotation)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        many = isinstance(value, (list, tuple, set, models.Manager))
        for member in typing.get_args(inner):
            if member is not type(None) and (collection_item(member) is not None) == many:
                return prepare(member, value)
        return value
    if isinstance(value, models.Model) and not is_model(inner):
        return value.pk
    if is_model(inner):
        return _model_data(inner, value)
    item = collection_item(annotation)
    if item is not None and not isinstance(value, (str, bytes, dict)):
        if isinstance(value, models.Manager):
            value = value.all()
        return [_prepare(item, element) for element in value]
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
        attribute = orm_name(name, info)
        try:
            field = model._meta.get_field(attribute)
        except FieldDoesNotExist:
            continue
        if not field.is_relation or field.related_model is None:
            continue
        nested = nested_model(info.annotation)
        single = field.many_to_one or field.one_to_one
        if nested is None and single:
            continue  # read as the id the row already holds
        path = prefix + attribute  # the relation's name, which a field with orm_field does not share
        if single and not in_prefetch:
            select.append(path)
        else:
            prefetch.append(path)  # also lists of ids (``tags: list[int]``)
        if nested is not None:
            _plan(field.related_model, nested[0], path + "__", in_prefetch or not single,
                  select, prefetch)
