"""What OpenAPI says of a bound route beyond its signature: its description (the scopes that
grant it and those its ancestors need) and the error responses it can answer. Its 2xx body is
``route.answer.schema``, the same description the renderer answers by."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import TypeAdapter

from djfapi.exceptions import ErrorBody
from djfapi.pagination import PageNumberPagination
from djfapi.routes import BoundRoute, extra_pagination
from djfapi.schemas.fields import one_or_many
from djfapi.schemas.forms import FormShape, form_shape
from djfapi.schemas.types import is_model
from djfapi.viewsets.lifecycle import declared_throttles
from djfapi.viewsets.plain import is_model_less

__all__ = ["description", "error_responses", "form_openapi", "route_form"]


def description(route: BoundRoute) -> str | None:
    """The operation's description: the action's docstring, the scopes that grant it, and
    those each ancestor needs to be read."""
    parts = []
    doc = inspect.getdoc(route.extra.func) if route.extra else None
    if doc and "\n" in doc:
        parts.append(doc.split("\n", 1)[1].strip())
    scopes = route.required_scopes
    if route.registration.security is not None:
        granted = ", ".join(f"`{scope}`" for scope in scopes) if scopes else "a valid token"
        parts.append(f"Scopes: {granted}." if scopes else f"Needs {granted}.")
    for ancestor in route.ancestors:
        if ancestor.checks_scopes and ancestor.scopes:
            noun = ancestor.registration.viewset.get_model()._meta.verbose_name
            parts.append(f"Reading the parent {noun} needs: {', '.join(f'`{s}`' for s in ancestor.scopes)}.")
    return "\n\n".join(parts) or None


def error_responses(route: BoundRoute) -> dict[int | str, dict[str, Any]]:
    """The error responses ``route`` can answer, for OpenAPI (422 FastAPI adds itself)."""
    registration = route.registration
    responses: dict[int | str, dict[str, Any]] = {}
    if registration.security is not None:
        responses[401] = {"model": ErrorBody, "description": "Missing or invalid token"}
    if route.detail or registration.parent is not None:
        responses[404] = {"model": ErrorBody, "description": "Not found, or not visible to the caller"}
    elif _numbered_pages(route):
        responses[404] = {"model": ErrorBody, "description": "Invalid page: past the last one"}
    if registration.viewset.permission_classes or registration.security is not None:
        responses[403] = {"model": ErrorBody, "description": "Permission denied"}
    if route.writes:
        responses[409] = {"model": ErrorBody, "description": "Conflicts with stored data"}
    if route.body_shape is not None:
        responses[413] = {"model": ErrorBody, "description": "The body is too large"}
        responses[415] = {"model": ErrorBody, "description": "The body is not JSON"}
    if route.writes and route.detail:
        responses[412] = {"model": ErrorBody, "description": "If-Match names an ETag the row no longer has"}
        if registration.viewset.require_if_match:
            responses[428] = {"model": ErrorBody, "description": "If-Match is required"}
    extra = route.extra.overrides if route.extra is not None else {}
    if extra.get("throttle_classes", declared_throttles(registration.viewset)):  # @action's own first
        responses[429] = {"model": ErrorBody, "description": "Throttled: retry after Retry-After seconds"}
    if not route.writes:
        responses[304] = {"description": "Not modified: If-None-Match names the current ETag"}
    return responses


def _numbered_pages(route: BoundRoute) -> bool:
    """Whether ``route`` answers pages by number, whose page past the last is a 404."""
    viewset = route.registration.viewset
    if route.extra is not None:
        pagination = extra_pagination(viewset, route.extra) if route.extra.paginated else None
    else:
        pagination = viewset.declared_pagination_class() if route.action == "list" else None
    return isinstance(pagination, type) and issubclass(pagination, PageNumberPagination)


# -- form bodies -----------------------------------------------------------------------------

def route_form(route: BoundRoute) -> FormShape | None:
    """How a form body of ``route`` is read: a model's create or update; None for the rest
    (their bodies are JSON only)."""
    viewset = route.registration.viewset
    if route.extra is not None or route.body_schema is None or is_model_less(viewset):
        return None
    schema = one_or_many(route.body_schema) or route.body_schema
    if not is_model(schema):
        return None
    return form_shape(viewset.get_model(), schema, viewset.__name__)


def form_openapi(route: BoundRoute, form: FormShape | None) -> dict[str, Any] | None:
    """The multipart body of a route whose schema has file fields, for OpenAPI's ``requestBody``
    beside its JSON: file fields as binary parts, nested values as JSON text. (Forms without
    files are taken by every create and update but not listed: JSON says the same.)"""
    if form is None or not form.files:
        return None
    schema = one_or_many(route.body_schema) or route.body_schema
    properties, required = _form_properties(schema, form)
    multipart = {"type": "object", "properties": properties, **({"required": required} if required else {})}
    # Not "required": openapi-python-client (0.29) writes a client that cannot be imported for a
    # required body of two media types (its issue #1451). A request without a body is a 422.
    return {"requestBody": {"required": False, "content": {"multipart/form-data": {"schema": multipart}}}}


def _form_properties(schema: Any, form: FormShape) -> tuple[dict[str, Any], list[str]]:
    full = TypeAdapter(schema).json_schema(mode="validation")
    definitions = full.get("$defs", {})
    properties = {}
    for key, value in full.get("properties", {}).items():
        kind = form.fields[key].kind if key in form.fields else "value"
        if kind in ("file", "image"):
            properties[key] = {"type": "string", "format": "binary", "description": f"A file ({kind})."}
        elif kind == "json":
            properties[key] = {"type": "string", "contentMediaType": "application/json",
                               "description": "The nested value as JSON text."}
        else:
            properties[key] = _inlined(value, definitions)
    return properties, list(full.get("required", []))


def _inlined(value: Any, definitions: dict[str, Any], depth: int = 0) -> Any:
    """``value`` with its ``$ref`` s to ``definitions`` (enums of a flat field) written out."""
    if isinstance(value, dict):
        ref = value.get("$ref", "")
        if ref.startswith("#/$defs/") and depth < 8:
            return _inlined(definitions.get(ref.removeprefix("#/$defs/"), {}), definitions, depth + 1)
        return {key: _inlined(item, definitions, depth) for key, item in value.items()}
    if isinstance(value, list):
        return [_inlined(item, definitions, depth) for item in value]
    return value
