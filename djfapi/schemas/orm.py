"""Moving a validated body onto a Django model instance, by field name.

A schema field maps to the model field of the same name; a ForeignKey is written by id, as
``company_id`` or as ``company`` holding the id. Names djfapi cannot write are refused when
the viewset is registered, not on the first request.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import models
from pydantic import BaseModel

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["check_write_schema", "transfer_to_orm"]


def _concrete_field(model: type[models.Model], name: str) -> models.Field | None:
    """The concrete field that ``name`` (a field name or an attname like ``company_id``) writes."""
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    return None


def _settable_attribute(model: type[models.Model], name: str) -> bool:
    attribute = getattr(model, name, None)
    return isinstance(attribute, property) and attribute.fset is not None


def check_write_schema(model: type[models.Model], schema: type[BaseModel], owner: str) -> None:
    """Raise ImproperlyConfigured when a field of ``schema`` names nothing writable on ``model``."""
    for name in schema.model_fields:
        if _concrete_field(model, name) is None and not _settable_attribute(model, name):
            raise ImproperlyConfigured(
                f"{owner}: field {name!r} of {schema.__name__} is not a concrete field of "
                f"{model.__name__} (nor a property with a setter). Rename it to one of "
                f"{sorted(f.attname for f in model._meta.concrete_fields)} or leave it out."
            )


def transfer_to_orm(
    pydantic_obj: BaseModel,
    django_obj: models.Model,
    *,
    exclude_unset: bool = False,
    exclude: Collection[str] = (),
) -> None:
    """Set the fields of ``pydantic_obj`` on ``django_obj`` (unsaved; the caller saves).

    ``exclude_unset`` leaves out fields the client did not send (PATCH); ``exclude`` names
    fields the server owns, which a body never sets.
    """
    model = type(django_obj)
    for name in type(pydantic_obj).model_fields:
        if exclude_unset and name not in pydantic_obj.model_fields_set:
            continue
        field = _concrete_field(model, name)
        if field is not None and (field.name in exclude or field.attname in exclude):
            continue
        if field is None and name in exclude:
            continue
        value = getattr(pydantic_obj, name)
        setattr(django_obj, field.attname if field is not None else name, value)
