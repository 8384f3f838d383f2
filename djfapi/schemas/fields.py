"""``Field``: pydantic's, plus djdantic's ``scopes``, ``orm_field`` and ``orm_method``.

::

    class CompanyOut(BaseModel):
        name: str
        revenue: int | None = Field(None, scopes=["business.companies.finance.any"])
        title: str = Field(orm_field=models.Company.name)          # read/written as `name`
        staff: int = Field(orm_method=models.Company.department_count)

    class UserUpdate(BaseModel):
        password: str = Field(orm_method=models.User.set_password)  # called with the value

``scopes``: in a response the field is left out unless the caller holds one of them; a body
that sets it without one is refused with 403. ``orm_field`` names the model attribute a field
stands for when the names differ; ``orm_method`` is called to read the value (with the
instance) or to write it (with the instance and the value).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo

from djfapi.exceptions import ImproperlyConfigured
from djfapi.schemas.types import collection_item, is_model, nested_model, strip_annotated

__all__ = ["Field", "FieldOptions", "check_hideable", "field_options", "field_scopes", "hidden_fields",
           "one_or_many", "orm_name", "unpermitted_fields"]


@dataclass(frozen=True)
class FieldOptions:
    """djfapi's options of one schema field, kept in the pydantic field's metadata."""

    scopes: tuple[str, ...] | None = None
    orm_field: Any = None
    orm_method: Callable[..., Any] | None = None


def Field(
    default: Any = ...,
    *,
    scopes: Sequence[str] | None = None,
    orm_field: Any = None,
    orm_method: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> Any:
    """pydantic's ``Field`` plus ``scopes`` (documented in OpenAPI as ``x-scopes``),
    ``orm_field`` and ``orm_method``."""
    if scopes is not None:
        extra = dict(kwargs.pop("json_schema_extra", None) or {})
        extra["x-scopes"] = list(scopes)
        kwargs["json_schema_extra"] = extra
    info = PydanticField(default, **kwargs)
    if scopes is not None or orm_field is not None or orm_method is not None:
        info.metadata.append(FieldOptions(tuple(scopes) if scopes is not None else None,
                                          orm_field, orm_method))
    return info


def field_options(info: FieldInfo) -> FieldOptions:
    """The djfapi options of a field (empty ones for a plain pydantic field)."""
    for item in info.metadata:
        if isinstance(item, FieldOptions):
            return item
    return FieldOptions()


def field_scopes(info: FieldInfo) -> tuple[str, ...] | None:
    """The scopes a field was declared with, or None when anyone may see it."""
    return field_options(info).scopes


def orm_name(name: str, info: FieldInfo) -> str:
    """The model attribute schema field ``name`` stands for (``orm_field``'s name, else ``name``)."""
    descriptor = field_options(info).orm_field
    if descriptor is None:
        return name
    if hasattr(descriptor, "rel") and hasattr(descriptor, "reverse"):  # many-to-many
        return str(descriptor.rel.get_accessor_name() if descriptor.reverse else descriptor.field.name)
    if hasattr(descriptor, "rel"):  # reverse ForeignKey
        return str(descriptor.rel.get_accessor_name())
    if hasattr(descriptor, "field"):  # a plain field or a ForeignKey
        return str(descriptor.field.name if nested_model(info.annotation) else descriptor.field.attname)
    return str(descriptor)


@functools.cache
def _has_scoped_fields(schema: type[BaseModel], seen: frozenset[type] = frozenset()) -> bool:
    """Whether ``schema`` or a model anywhere in its fields' types declares scopes."""
    if schema in seen:
        return False
    return any(field_scopes(info) is not None or mentions_scoped(info.annotation, seen | {schema})
               for info in schema.model_fields.values())


def mentions_scoped(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a model with scoped fields appears anywhere in ``annotation``."""
    annotation = strip_annotated(annotation)
    if is_model(annotation):
        return _has_scoped_fields(annotation, seen)
    return any(mentions_scoped(arg, seen) for arg in typing.get_args(annotation))


def one_or_many(annotation: Any) -> Any | None:
    """``X`` for ``X | list[X]`` (djfapi 0.0.x's ``create_multi`` bodies and answers), else None."""
    members = typing.get_args(strip_annotated(annotation))
    union = typing.get_origin(strip_annotated(annotation)) in (typing.Union, types.UnionType)
    if union and len(members) == 2:
        one, many = members
        if is_model(one) and collection_item(many) is one:
            return one
    return None


def check_hideable(annotation: Any, where: str, seen: frozenset[type] = frozenset()) -> None:
    """ImproperlyConfigured where a model with scoped fields sits where they cannot be left out
    for a caller without the scope: inside a dict, or in a union with other types."""
    annotation = one_or_many(annotation) or annotation
    nested = nested_model(annotation)
    if nested is not None:
        if nested[0] not in seen:  # a model nesting itself is checked once
            for name, info in nested[0].model_fields.items():
                check_hideable(info.annotation, f"{where}.{name}", seen | {nested[0]})
        return
    if mentions_scoped(annotation):
        raise ImproperlyConfigured(
            f"{where} is {annotation!r}, which holds a model with fields declared with scopes "
            "(Field(scopes=...)) inside a dict or a union: djfapi could not leave those fields "
            "out for callers without the scopes. Use the model itself or a list of it.")


def hidden_fields(schema: Any, held: Collection[str], value: Any = None) -> dict[Any, Any] | None:
    """The ``exclude=`` tree for ``dump_json`` that leaves out what ``held`` scopes may not see
    (``value``: what is dumped, which says whether an ``X | list[X]`` is one or many)."""
    one = one_or_many(schema)
    if one is not None:
        schema = list[one] if isinstance(value, list) else one  # type: ignore[valid-type]
    nested = nested_model(schema)
    if nested is None or not _has_scoped_fields(nested[0]):
        return None
    model, many = nested
    exclude: dict[Any, Any] = {}
    for name, info in model.model_fields.items():
        scopes = field_scopes(info)
        if scopes is not None and not set(scopes) & set(held):
            exclude[name] = True
            continue
        inner = hidden_fields(info.annotation, held)
        if inner:
            exclude[name] = inner
    if not exclude:
        return None
    return {"__all__": exclude} if many else exclude


def unpermitted_fields(data: BaseModel, held: Collection[str], prefix: str = "") -> list[str]:
    """The fields ``data`` sets (nested included) whose scopes ``held`` has none of."""
    denied = []
    for name in data.model_fields_set:
        info = type(data).model_fields.get(name)
        if info is None:  # an extra of a schema with extra="allow": not written, so not checked
            continue
        scopes = field_scopes(info)
        if scopes is not None and not set(scopes) & set(held):
            denied.append(prefix + name)
        value = getattr(data, name)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                where = f"{prefix}{name}[{index}]." if isinstance(value, list) else f"{prefix}{name}."
                denied.extend(unpermitted_fields(item, held, where))
    return denied
