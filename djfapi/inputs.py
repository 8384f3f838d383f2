"""What a request may send: the query parameters and body fields a route knows.

FastAPI ignores a query parameter or a body field that nothing declares, so a misspelt filter
(``?titel=x``) returns every row and a misspelt field (``{"nme": "x"}``) changes nothing, both
with a 200. djfapi refuses them instead, with a 422 naming each one:

- a query parameter the route does not declare (a viewset's ``extra_query_params`` are let
  through for hooks that read ``self.request.query_params`` themselves);
- a scalar query parameter sent twice (``?name=a&name=b``: which one would win?);
- a body field that neither the write schema nor the read schema names. Read-only fields of
  the read schema (``id``, ``created_at``) are ignored, so what a GET returned can be sent back,
  as in DRF. A schema with ``model_config = ConfigDict(extra="allow")`` takes anything;
- text no database stores alike — a NUL character (PostgreSQL refuses it, SQLite keeps it) or
  a lone surrogate — in a query value or anywhere in a body.

What a route knows is worked out once, when it is bound; the checks are set lookups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import field_annotation_is_sequence
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from djfapi.schemas.types import is_model, nested_model

__all__ = ["BodyShape", "QueryNames", "body_shape", "query_names"]


@dataclass(frozen=True)
class QueryNames:
    """The query parameters a route declares, and which of them take one value only."""

    known: frozenset[str]
    scalar: frozenset[str]

    def errors(self, items: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """FastAPI-shaped errors for unknown and repeated parameters among ``items``, and for
        values no database stores."""
        items = list(items)
        counts = Counter(name for name, _ in items)
        errors = [error for name, value in items for error in text_errors(value, ("query", name))]
        for name, count in counts.items():
            if name not in self.known:
                accepted = ", ".join(sorted(self.known)) or "none"
                errors.append({"loc": ["query", name], "type": "unknown_parameter",
                               "msg": f"Unknown query parameter. This route accepts: {accepted}."})
            elif count > 1 and name in self.scalar:
                errors.append({"loc": ["query", name], "type": "repeated_parameter",
                               "msg": f"Sent {count} times, but it takes one value."})
        return errors

    def check(self, items: Iterable[tuple[str, str]]) -> None:
        """Raise a 422 for unknown and repeated parameters among ``items``."""
        errors = self.errors(items)
        if errors:
            raise HTTPException(422, detail=errors)


def query_names(dependant: Dependant, extra: Iterable[str] = ()) -> QueryNames:
    """The query parameters of ``dependant`` and its sub-dependencies, plus ``extra``."""
    known, scalar = set(extra), set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for param in current.query_params:
            annotation: Any = param.field_info.annotation
            if is_model(annotation):  # a pydantic model of query parameters
                fields = [(info.alias or name, info) for name, info in annotation.model_fields.items()]
            else:
                fields = [(param.alias, param.field_info)]
            for name, info in fields:
                known.add(name)
                if not field_annotation_is_sequence(info.annotation):
                    scalar.add(name)
    return QueryNames(frozenset(known), frozenset(scalar))


@dataclass(frozen=True)
class BodyShape:
    """The keys a JSON object may hold, and the shapes of the objects nested under some of them;
    ``allowed`` None takes any key."""

    allowed: frozenset[str] | None
    nested: Mapping[str, BodyShape] = field(default_factory=dict)
    writable: frozenset[str] = frozenset()  # what the write schema names, for the message

    def errors(self, value: Any, loc: tuple[Any, ...] = ("body",)) -> list[dict[str, Any]]:
        """FastAPI-shaped errors for the keys of ``value`` (and of nested objects) not allowed."""
        if isinstance(value, list):
            return [error for index, item in enumerate(value) for error in self.errors(item, (*loc, index))]
        if not isinstance(value, dict):
            return text_errors(value, loc)
        errors = []
        for key, item in value.items():
            if key not in self.nested:
                errors.extend(text_errors(item, (*loc, key)))
            if self.allowed is not None and key not in self.allowed:
                accepted = ", ".join(sorted(self.writable))
                errors.append({"loc": [*loc, key], "type": "unknown_field",
                               "msg": f"Unknown field. This body writes: {accepted} (the read-only fields "
                                      "of the response are accepted and ignored)."})
            elif key in self.nested:
                errors.extend(self.nested[key].errors(item, (*loc, key)))
        return errors

    def check(self, value: Any) -> None:
        """Raise a 422 for the fields of ``value`` that are not allowed."""
        errors = self.errors(value)
        if errors:
            raise HTTPException(422, detail=errors)


def text_errors(value: Any, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Errors for the strings in ``value`` (nested lists and objects included) that hold a NUL
    character or a lone surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return [{"loc": list(loc), "type": "string_nul", "msg": "Text cannot hold a NUL character."}]
        try:
            value.encode()
        except UnicodeEncodeError:
            return [{"loc": list(loc), "type": "string_unicode", "msg": "Text cannot hold a lone surrogate."}]
        return []
    if isinstance(value, dict):
        return [error for key, item in value.items()
                for error in [*text_errors(key, loc), *text_errors(item, (*loc, key))]]
    if isinstance(value, list):
        return [error for index, item in enumerate(value) for error in text_errors(item, (*loc, index))]
    return []


def _keys(name: str, info: FieldInfo) -> set[str]:
    aliases = (info.alias, info.validation_alias, info.serialization_alias)
    return {name, *(alias for alias in aliases if isinstance(alias, str))}


def body_shape(write: type[BaseModel], read: type[BaseModel] | None = None) -> BodyShape:
    """What a body of ``write`` may hold: its fields, and the fields of ``read`` (ignored)."""
    if write.model_config.get("extra") == "allow":
        return BodyShape(None)
    read_fields = read.model_fields if read is not None else {}
    allowed: set[str] = set()
    nested: dict[str, BodyShape] = {}
    writable = frozenset(info.alias or name for name, info in write.model_fields.items())
    for name, info in write.model_fields.items():
        keys = _keys(name, info)
        allowed |= keys
        inner = nested_model(info.annotation)
        if inner is not None:
            read_info = read_fields.get(name)
            read_inner = nested_model(read_info.annotation) if read_info is not None else None
            shape = body_shape(inner[0], read_inner[0] if read_inner else None)
            nested.update(dict.fromkeys(keys, shape))
    for name, info in read_fields.items():
        allowed |= _keys(name, info)
    return BodyShape(frozenset(allowed), nested, writable)
