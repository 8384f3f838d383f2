"""What OpenAPI says of a bound route beyond its signature: its description (the scopes that
grant it and those its ancestors need) and the error responses it can answer. Its 2xx body is
``route.answer.schema``, the same description the renderer answers by."""

from __future__ import annotations

import inspect
from typing import Any

from djfapi.exceptions import ErrorBody
from djfapi.routes import BoundRoute
from djfapi.viewsets.lifecycle import declared_throttles

__all__ = ["description", "error_responses"]


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
