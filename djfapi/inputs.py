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
  a lone surrogate — in a query value or anywhere in a body;
- a list in a body longer than the viewset's ``max_nested_items`` (1,000 by default).

Bodies themselves are read by :func:`read_body` (from the router's route class): one larger
than Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MiB by default; None lifts it) is a 413,
and JSON that is not UTF-8 or nests deeper than :data:`MAX_DEPTH` levels is a 422 like any
other invalid JSON.

What a route knows is worked out once, when it is bound; the checks are set lookups.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from django.conf import settings
from fastapi import HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import field_annotation_is_sequence  # type: ignore[attr-defined]
from fastapi.exceptions import RequestValidationError
from fastapi.security import SecurityScopes
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from djfapi.schemas.types import is_model, nested_model

__all__ = ["INLINE_BYTES", "MAX_DEPTH", "MAX_ERRORS", "BodyShape", "QueryNames", "body_shape", "parse_json",
           "query_names", "read_body"]

MAX_DEPTH = 64  # levels of arrays and objects a JSON body may nest
MAX_ERRORS = 50  # errors a 422 for a body's fields names; a body of 50,000 unknown keys is no 45 MB answer

# What checks a request's token: a JWTBearer (or the route's RouteSecurity); a 401 when it fails.
Security = Callable[[Request, SecurityScopes], Awaitable[Any]]
INLINE_BYTES = 64 * 1024  # a larger body is parsed in a worker thread, off the event loop


@dataclass(frozen=True)
class QueryNames:
    """The query parameters a route declares, and which of them take one value only."""

    known: frozenset[str]
    scalar: frozenset[str]
    unlisted: frozenset[str] = frozenset()  # accepted but left out of OpenAPI (``!name``) and messages

    def errors(self, items: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """FastAPI-shaped errors for unknown and repeated parameters among ``items``, and for
        values no database stores."""
        items = list(items)
        counts = Counter(name for name, _ in items)
        errors = [error for name, value in items for error in text_errors(value, ("query", name))]
        listed = False  # what the route accepts is said once, not once per unknown parameter
        for name, count in counts.items():
            if name not in self.known:
                accepted = ", ".join(sorted(self.known - self.unlisted)) or "none"
                errors.append({"loc": ["query", name], "type": "unknown_parameter",
                               "msg": "Unknown query parameter." + (
                                   "" if listed else f" This route accepts: {accepted}.")})
                listed = True
            elif count > 1 and name in self.scalar:
                errors.append({"loc": ["query", name], "type": "repeated_parameter",
                               "msg": f"Sent {count} times, but it takes one value."})
        return errors

    def check(self, items: Iterable[tuple[str, str]]) -> None:
        """Raise a 422 for unknown and repeated parameters among ``items`` (the first
        :data:`MAX_ERRORS` of them, and how many more there were)."""
        errors = capped(self.errors(items), "query")
        if errors:
            raise HTTPException(422, detail=errors)


def capped(errors: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """The first :data:`MAX_ERRORS` of ``errors``, and one saying how many more were left out."""
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], {"loc": [where], "type": "too_many_errors",
                                   "msg": f"{len(errors) - MAX_ERRORS} more errors are left out."}]


def query_names(dependant: Dependant, extra: Iterable[str] = ()) -> QueryNames:
    """The query parameters of ``dependant`` and its sub-dependencies, plus ``extra``."""
    known, scalar, unlisted = set(extra), set(), set()
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
                if getattr(info, "include_in_schema", True) is False:
                    unlisted.add(name)
                if not field_annotation_is_sequence(info.annotation):
                    scalar.add(name)
    return QueryNames(frozenset(known), frozenset(scalar), frozenset(unlisted))


@dataclass(frozen=True)
class BodyShape:
    """The keys a JSON object may hold, and the shapes of the objects nested under some of them;
    ``allowed`` None takes any key."""

    allowed: frozenset[str] | None
    nested: Mapping[str, BodyShape] = field(default_factory=dict)
    writable: frozenset[str] = frozenset()  # what the write schema names, for the message
    max_items: int | None = None  # items a list may hold, at any depth

    def errors(self, value: Any, loc: tuple[Any, ...] = ("body",)) -> list[dict[str, Any]]:
        """FastAPI-shaped errors for the keys of ``value`` (and of nested objects) not allowed."""
        if isinstance(value, list):
            if self.max_items is not None and len(value) > self.max_items:
                return [_too_many(loc, self.max_items)]
            return [error for index, item in enumerate(value) for error in self.errors(item, (*loc, index))]
        if not isinstance(value, dict):
            return text_errors(value, loc, self.max_items)
        errors = []
        for key, item in value.items():
            if key not in self.nested:
                errors.extend(text_errors(item, (*loc, key), self.max_items))
            if self.allowed is not None and key not in self.allowed:
                accepted = ", ".join(sorted(self.writable))
                errors.append({"loc": [*loc, key], "type": "unknown_field",
                               "msg": f"Unknown field. This body writes: {accepted} (the read-only fields "
                                      "of the response are accepted and ignored)."})
            elif key in self.nested:
                errors.extend(self.nested[key].errors(item, (*loc, key)))
        return errors

    def check(self, value: Any) -> None:
        """Raise a 422 for the fields of ``value`` that are not allowed (the first
        :data:`MAX_ERRORS` of them, and how many more there were)."""
        errors = capped(self.errors(value), "body")
        if errors:
            raise HTTPException(422, detail=errors)


def _too_many(loc: tuple[Any, ...], max_items: int) -> dict[str, Any]:
    return {"loc": list(loc), "type": "too_long",
            "msg": f"At most {max_items} items may be sent in one list."}


def text_errors(value: Any, loc: tuple[Any, ...], max_items: int | None = None) -> list[dict[str, Any]]:
    """Errors for the strings in ``value`` (nested lists and objects included) that hold a NUL
    character or a lone surrogate, and for lists longer than ``max_items``."""
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
                for error in [*text_errors(key, loc), *text_errors(item, (*loc, key), max_items)]]
    if isinstance(value, list):
        if max_items is not None and len(value) > max_items:
            return [_too_many(loc, max_items)]
        return [error for index, item in enumerate(value)
                for error in text_errors(item, (*loc, index), max_items)]
    return []


def _keys(name: str, info: FieldInfo) -> set[str]:
    aliases = (info.alias, info.validation_alias, info.serialization_alias)
    return {name, *(alias for alias in aliases if isinstance(alias, str))}


def body_shape(write: type[BaseModel], read: type[BaseModel] | None = None, *,
               max_items: int | None = None) -> BodyShape:
    """What a body of ``write`` may hold: its fields, and the fields of ``read`` (ignored);
    no list in it longer than ``max_items``."""
    if write.model_config.get("extra") == "allow":
        return BodyShape(None, max_items=max_items)
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
            shape = body_shape(inner[0], read_inner[0] if read_inner else None, max_items=max_items)
            nested.update(dict.fromkeys(keys, shape))
    for name, info in read_fields.items():
        allowed |= _keys(name, info)
    return BodyShape(frozenset(allowed), nested, writable, max_items)


# -- reading the body ----------------------------------------------------------------------

async def read_body(request: Request, *, max_items: int | None = None,
                    security: Security | None = None) -> None:
    """Read ``request``'s body (at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, else 413) and,
    when it is JSON, parse and check it (:func:`parse_json`, no list longer than ``max_items``)
    for FastAPI to use. A body larger than :data:`INLINE_BYTES` is parsed only once
    ``security`` accepted the token (else its 401), and in a worker thread: an anonymous client
    costs no parsing, and no body stalls the event loop."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = request.headers.get("content-length", "")
    if limit is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = request._body = b"".join(chunks)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and not media_type:
        raise HTTPException(415, detail="Send the body with Content-Type: application/json.")
    if not body or not (media_type == "application/json" or media_type.endswith("+json")):
        return
    if len(body) <= INLINE_BYTES:
        request._json = parse_json(body, max_items)
        return
    if security is not None:
        await security(request, SecurityScopes())
    request._json = await anyio.to_thread.run_sync(parse_json, body, max_items)


def parse_json(body: bytes, max_items: int | None = None) -> Any:
    """The JSON value of ``body``; a 422 ``json_invalid`` for what is not JSON, not UTF-8, nested
    deeper than MAX_DEPTH, or holds a number no JSON parser elsewhere reads back (``NaN``,
    ``Infinity``, ``1e999``, integers of thousands of digits), and a 422 at the place of text
    holding a NUL character or a lone surrogate, or at a list longer than ``max_items``, before
    pydantic spends time on its items. What passes can always be echoed back in a 422, so no
    validation error of FastAPI's becomes a 500."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _invalid_json(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:  # as FastAPI words it
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "input": {},
                                       "msg": "JSON decode error", "ctx": {"error": exc.msg}}]) from None
    except UnicodeDecodeError:
        raise _invalid_json("the body is not UTF-8") from None
    except ValueError as exc:  # a constant or a float refused below, an integer too long to read
        raise _invalid_json(str(exc).split(";")[0]) from None
    flaw = _flaw(value, max_items)
    if flaw == "deep":
        raise _invalid_json(f"nested deeper than {MAX_DEPTH} levels")
    if flaw is not None:  # found in one pass; located by a second, which only a bad body costs
        raise RequestValidationError(text_errors(value, ("body",), max_items))
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text[:40]} is beyond the range of a 64-bit float")
    return number


def _invalid_json(reason: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "input": {},
                                    "msg": f"JSON decode error: {reason}."}])


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, detail=f"The body is larger than {limit} bytes, the most this API "
                                     "accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and surrogates (paired ones JSON decodes)


def _flaw(value: Any, max_items: int | None) -> str | None:
    """``"deep"`` when ``value`` nests lists and objects deeper than MAX_DEPTH, ``"text"`` when
    a key or string holds a NUL or a lone surrogate, ``"long"`` when a list holds more than
    ``max_items``, else None: one pass, level by level."""
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > MAX_DEPTH and any(isinstance(item, (dict, list)) for item in level):
            return "deep"
        below: list[Any] = []
        for item in level:
            if isinstance(item, str):
                if _UNSTORABLE.search(item):
                    return "text"
            elif isinstance(item, dict):
                below.extend(item)
                below.extend(item.values())
            elif isinstance(item, list):
                if max_items is not None and len(item) > max_items:
                    return "long"
                below.extend(item)
        level = below
    return None
