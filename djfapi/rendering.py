"""Turning what an action returned into the JSON bytes of the response, as the route's
:class:`~djfapi.routes.Answer` says, and validating a body against a call's schema.

What depends on a schema alone (its ``TypeAdapter``, a pagination's page of it, whether a
per-request schema is narrower than the declared one) is worked out once per schema.
"""

from __future__ import annotations

import functools
from typing import Any

import pydantic_core
from django.db import models
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import BasePagination
from djfapi.routes import Answer
from djfapi.schemas import partial_schema
from djfapi.schemas.fields import field_scopes, hidden_fields, orm_name
from djfapi.schemas.reading import prepare
from djfapi.schemas.types import is_model, nested_model

__all__ = ["Renderer", "adapter", "validate_body"]


@functools.lru_cache(maxsize=1024)  # bounded: a hook may make schemas per call
def adapter(schema: Any) -> TypeAdapter[Any]:
    """The ``TypeAdapter`` of ``schema``, made once."""
    return TypeAdapter(schema)


@functools.lru_cache(maxsize=1024)
def page_schema(page: type[BasePagination], rows: Any) -> Any:
    """The list body of ``page`` around ``rows``, made once."""
    return page.response_schema(rows)


@functools.lru_cache(maxsize=1024)
def check_narrower(declared: Any, schema: Any, hook: str) -> None:
    """ImproperlyConfigured unless ``schema`` is ``declared`` or narrower: a model whose fields
    are among its fields, read from the same attributes, with the same scopes (or more), nested
    models narrower in turn, and no computed field it has not. OpenAPI documents ``declared``,
    so a call may show less, never more."""
    if schema == declared:  # unions made afresh (X | list[X]) are equal, not identical
        return
    if not (is_model(schema) and is_model(declared)):
        raise ImproperlyConfigured(f"{hook}() returned {schema!r}; return the declared schema "
                                   f"{declared!r} or a narrower pydantic model.")
    wider = _wider(declared, schema)
    if wider:
        raise ImproperlyConfigured(
            f"{hook}() returned {schema.__name__}, which has fields the declared "
            f"{declared.__name__} has not: {wider}. A call may use fewer fields, never "
            f"more; declare them in Schemas(...) (or override {_DECLARING[hook]}).")


def _wider(declared: type[BaseModel], schema: type[BaseModel], prefix: str = "") -> list[str]:
    """What ``schema`` shows that ``declared`` does not, as dotted names."""
    found = [f"{prefix}{name}" for name in schema.model_computed_fields
             if name not in declared.model_computed_fields]
    for name, info in schema.model_fields.items():
        base = declared.model_fields.get(name)
        base_scopes, scopes = (field_scopes(base) if base else None), field_scopes(info)
        if base is None or orm_name(name, info) != orm_name(name, base) or (
                base_scopes is not None and (scopes is None or not set(scopes) <= set(base_scopes))):
            found.append(f"{prefix}{name}")
            continue
        inner, base_inner = nested_model(info.annotation), nested_model(base.annotation)
        if inner is not None and (base_inner is None or inner[1] != base_inner[1]):
            found.append(f"{prefix}{name}")
        elif inner is not None and base_inner is not None and inner[0] is not base_inner[0]:
            found.extend(_wider(base_inner[0], inner[0], f"{prefix}{name}."))
    return found


_DECLARING = {"get_schema": "declared_schema", "get_response_schema": "declared_response_schema"}


class Renderer:
    """Turns an action's result into (status, JSON bytes) as ``answer`` says; built once per route."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def __call__(self, result: Any, rows: Any = None, granted: frozenset[str] = frozenset(),
                 context: dict[str, Any] | None = None) -> tuple[int, bytes | None]:
        """``rows``: the schema this call shows rows with (the declared one by default);
        ``granted``: the caller's scopes, fields declared with others are left out; ``context``:
        pydantic's ``info.context`` for the schema's validators and serializers."""
        if result is None:
            return 204, None
        schema = self.schema_for(result, rows)
        if schema is None:
            return self.answer.status_code, pydantic_core.to_json(result)
        found = adapter(schema)
        value = found.validate_python(prepare(schema, result), from_attributes=True, context=context)
        # by_alias: as FastAPI answers a response_model, and as OpenAPI documents the fields
        return self.answer.status_code, found.dump_json(value, exclude=hidden_fields(schema, granted, value),
                                                        by_alias=True, context=context)

    def schema_for(self, result: Any, rows: Any) -> Any:
        """The schema ``result`` is answered with; None: plain JSON."""
        answer = self.answer
        if answer.rows is None:
            return answer.schema
        many = isinstance(result, list | tuple) and bool(result) and all(
            isinstance(item, models.Model) for item in result)
        if not answer.rows_only and not isinstance(result, models.Model) and not many:
            return None  # an @action that declares no response, returning something else
        if rows is None or rows == answer.rows:
            rows = answer.rows
        else:
            check_narrower(answer.rows, rows, "get_response_schema")
        if answer.page is not None:
            return page_schema(answer.page, rows)  # type: ignore[arg-type]
        return list[rows] if many and not answer.rows_only else rows


def validate_body(schema: Any, declared: Any, data: Any, context: dict[str, Any], *,
                  partial: bool = False) -> Any:
    """``data`` (a body's JSON) validated against ``schema`` with ``context`` as pydantic's
    ``info.context``; a 422 shaped as FastAPI's when it does not fit. A narrower ``schema``
    than ``declared`` is made partial for a PATCH (``partial``), and a field the declared
    schema takes but it does not is refused, not dropped."""
    if schema != declared:
        schema = partial_schema(schema) if partial else schema
        check_narrower(declared, schema, "get_schema")
        _refuse_withheld(declared, schema, data)
    try:
        return adapter(schema).validate_python(data, context=context)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=data) from None


def _refuse_withheld(declared: type[BaseModel], schema: type[BaseModel], data: Any) -> None:
    """422 for the keys of ``data`` that name fields of ``declared`` missing from ``schema``."""
    if not isinstance(data, dict):
        return
    withheld = {key for name, info in declared.model_fields.items() if name not in schema.model_fields
                for key in (name, info.alias) if key}
    errors = [{"type": "withheld_field", "loc": ("body", key), "input": data[key],
               "msg": "This field cannot be set by you: leave it out."}
              for key in data if key in withheld]
    if errors:
        raise RequestValidationError(errors, body=data)
