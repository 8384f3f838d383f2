"""``Field(..., scopes=[...])``: a schema field only callers holding one of ``scopes`` see or write.

::

    class CompanyOut(BaseModel):
        name: str
        revenue: int | None = Field(None, scopes=["business.companies.finance"])

In a response the field is left out unless the caller holds one of the scopes; a body that
sets it without one is refused with 403.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo

from djfapi.schemas.types import nested_model

__all__ = ["Field", "field_scopes", "hidden_fields", "unpermitted_fields"]

_KEY = "x-scopes"


def Field(default: Any = ..., *, scopes: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """pydantic's ``Field``, plus ``scopes``: who may see and write the field (documented in
    OpenAPI as ``x-scopes``)."""
    if scopes is not None:
        extra = dict(kwargs.pop("json_schema_extra", None) or {})
        extra[_KEY] = list(scopes)
        kwargs["json_schema_extra"] = extra
    return PydanticField(default, **kwargs)


def field_scopes(info: FieldInfo) -> tuple[str, ...] | None:
    """The scopes a field was declared with, or None when anyone may see it."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and _KEY in extra:
        return tuple(extra[_KEY])  # type: ignore[arg-type]
    return None


@functools.cache
def _has_scoped_fields(schema: type[BaseModel]) -> bool:
    for info in schema.model_fields.values():
        nested = nested_model(info.annotation)
        if field_scopes(info) is not None or (nested and _has_scoped_fields(nested[0])):
            return True
    return False


def hidden_fields(schema: Any, held: Collection[str]) -> dict[Any, Any] | None:
    """The ``exclude=`` tree for ``dump_json`` that leaves out what ``held`` scopes may not see."""
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
        info = type(data).model_fields[name]
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
