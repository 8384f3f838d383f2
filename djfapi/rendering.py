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
from djfapi.schemas.fields import hidden_fields
from djfapi.schemas.reading import prepare

__all__ = ["Renderer", "adapter", "validate_body"]


@functools.cache
def adapter(schema: Any) -> TypeAdapter[Any]:
    """The ``TypeAdapter`` of ``schema``, made once."""
    return TypeAdapter(schema)


@functools.cache
def page_schema(page: type[BasePagination], rows: Any) -> Any:
    """The list body of ``page`` around ``rows``, made once."""
    return page.response_schema(rows)


@functools.cache
def check_narrower(declared: Any, schema: Any, hook: str) -> None:
    """ImproperlyConfigured unless ``schema`` is ``declared`` or a model whose fields are
    among its fields: OpenAPI documents ``declared``, so a call may show less, never more."""
    if schema == declared:  # unions made afresh (X | list[X]) are equal, not identical
        return
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)
            and isinstance(declared, type) and issubclass(declared, BaseModel)):
        raise ImproperlyConfigured(f"{hook}() returned {schema!r}; return the declared schema "
                                   f"{declared!r} or a narrower pydantic model.")
    extra = set(schema.model_fields) - set(declared.model_fields)
    if extra:
        raise ImproperlyConfigured(
            f"{hook}() returned {schema.__name__}, which has fields the declared "
            f"{declared.__name__} has not: {sorted(extra)}. A call may use fewer fields, never "
            f"more; declare them in Schemas(...) (or override {_DECLARING[hook]}).")


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
        return self.answer.status_code, found.dump_json(value, exclude=hidden_fields(schema, granted),
                                                        context=context)

    def schema_for(self, result: Any, rows: Any) -> Any:
        """The schema ``result`` is answered with; None: plain JSON."""
        answer = self.answer
        if answer.rows is None:
            return answer.schema
        if not answer.rows_only and not isinstance(result, models.Model):
            return None  # an @action that declares no response, returning something else
        if rows is None or rows == answer.rows:
            rows = answer.rows
        else:
            check_narrower(answer.rows, rows, "get_response_schema")
        return page_schema(answer.page, rows) if answer.page is not None else rows  # type: ignore[arg-type]


def validate_body(schema: Any, declared: Any, data: Any, context: dict[str, Any]) -> Any:
    """``data`` (a body's JSON) validated against ``schema`` with ``context`` as pydantic's
    ``info.context``; a 422 shaped as FastAPI's when it does not fit."""
    if schema != declared:
        check_narrower(declared, schema, "get_schema")
    try:
        return adapter(schema).validate_python(data, context=context)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=data) from None
