"""``schema_for``: a pydantic model built from a Django model's fields.

::

    CompanyOut = schema_for(Company)                                  # every concrete field
    CompanyIn = schema_for(Company, fields=["name", "country_id"])   # ForeignKeys as <name>_id
    CompanyPatch = schema_for(Company, exclude=["id"], optional=True)

Types, ``max_length``, not ``blank`` (as ``min_length=1``), choices (as a ``Literal``), null
(``X | None``), defaults, decimal digits and places, help texts and verbose names carry over, so
OpenAPI shows the constraints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from djfapi.exceptions import ImproperlyConfigured
from djfapi.meta import python_type

__all__ = ["schema_for"]

def field_info(field: models.Field[Any, Any], *, optional: bool) -> FieldInfo:
    """Default, constraints and documentation of ``field``."""
    constraints: dict[str, Any] = {}
    if isinstance(field, models.FileField):  # reads as a URL, longer than the name it stores
        return Field(None, title=str(field.verbose_name).capitalize(),  # type: ignore[return-value]
                     description=str(field.help_text) or None)
    if getattr(field, "max_length", None) and python_type(field) is str:
        constraints["max_length"] = field.max_length
    if not field.blank and python_type(field) is str:  # Django's validation refuses "" as blank
        constraints["min_length"] = 1
    if isinstance(field, models.DecimalField):
        constraints.update(max_digits=field.max_digits, decimal_places=field.decimal_places)
    if isinstance(field, (models.PositiveIntegerField, models.PositiveSmallIntegerField,
                          models.PositiveBigIntegerField)):
        constraints["ge"] = 0
    options: dict[str, Any] = {**constraints, "title": str(field.verbose_name).capitalize(),
                               "description": str(field.help_text) or None}
    if optional:
        return Field(None, **options)  # type: ignore[no-any-return]
    if field.has_default():
        if callable(field.default):
            return Field(default_factory=field.default, **options)  # type: ignore[no-any-return]
        return Field(field.default, **options)  # type: ignore[no-any-return]
    if field.null:
        return Field(None, **options)  # type: ignore[no-any-return]
    if field.blank and field.empty_strings_allowed:
        return Field("", **options)  # type: ignore[no-any-return]
    return Field(..., **options)  # type: ignore[no-any-return]


def _select(model: type[models.Model], fields: Sequence[str] | None,
            exclude: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_name = {}
    for field in model._meta.concrete_fields:
        by_name[field.name] = by_name[field.attname] = field
    unknown = [name for name in [*(fields or ()), *exclude] if name not in by_name]
    if unknown:
        raise ImproperlyConfigured(
            f"schema_for({model.__name__}): {unknown} are not concrete fields; choose from "
            f"{sorted(f.attname for f in model._meta.concrete_fields)}."
        )
    chosen = [by_name[name] for name in fields] if fields else list(model._meta.concrete_fields)
    excluded = {by_name[name] for name in exclude}
    return [field for field in chosen if field not in excluded]


def schema_for(
    model: type[models.Model],
    *,
    fields: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    name: str | None = None,
    optional: bool = False,
) -> type[BaseModel]:
    """A pydantic model of ``model``'s concrete fields (``fields``, or all but ``exclude``).

    ForeignKeys appear as ``<name>_id``. With ``optional=True`` every field defaults to None.
    """
    definitions: dict[str, Any] = {}
    for field in _select(model, fields, exclude):
        annotation = python_type(field)
        if field.null or optional or isinstance(field, models.FileField):  # no file reads as None
            annotation = annotation | None
        definitions[field.attname] = (annotation, field_info(field, optional=optional))
    return create_model(
        name or model.__name__,
        __config__=ConfigDict(from_attributes=True),
        __doc__=f"{str(model._meta.verbose_name).capitalize()} (generated from {model.__name__}).",
        **definitions,
    )
