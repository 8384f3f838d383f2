"""Turns a bound route into a FastAPI endpoint with a real signature and a single threadpool hop.

What runs inside that hop lives in :mod:`djfapi.dispatch`.

The endpoint is ``async``: FastAPI parses path values, query parameters and the body on the
event loop (a bad one is a 422 before any ORM work). Then exactly one
``anyio.to_thread.run_sync`` call runs, inside :func:`~djfapi.request_signalling`, all ORM
work of the request: parent lookups, the viewset's hooks, the writes, and turning the
result into JSON bytes. The route keeps ``response_model`` for OpenAPI only.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
from django.db import models
from fastapi import Body, Depends, HTTPException, Path, Query, Request, Response, Security
from fastapi.dependencies.utils import get_dependant
from fastapi.security import SecurityScopes
from pydantic import BaseModel

from djfapi.conditional import Conditions, etag
from djfapi.dispatch import Call, Renderer, run_in_thread
from djfapi.exceptions import ErrorBody, ImproperlyConfigured, to_http_exception
from djfapi.filters import query_dependency
from djfapi.inputs import BodyShape, QueryNames, body_shape, query_names
from djfapi.permissions.jwt import JWTBearer, RouteSecurity
from djfapi.schemas.types import nested_model

if TYPE_CHECKING:
    from djfapi.routers import BoundRoute, Registration
    from djfapi.viewsets.generic import GenericViewSet

__all__ = ["build_endpoint", "documented_response_model", "error_responses", "in_hop", "path_parameters"]

# Names of the endpoint parameters djfapi adds itself; an @action's own parameters may not use them.
REQUEST, BODY, PAGINATOR, ACCESS, QUERY = "request", "body", "paginator", "access", "list_query"
JSON_BODY = "json_body"
RESERVED = frozenset({REQUEST, BODY, PAGINATOR, ACCESS, QUERY, JSON_BODY, "instance"})


# Called with each request's Call on the event loop, before its threadpool hop; integrations
# (djfapi.integrations.sentry) add to it. Empty, and so free, unless one is set up.
call_observers: list[Callable[[Call], None]] = []


class AggregateResult(BaseModel):
    """The body of an aggregate: ``{"values": [{"value": ..., "<group>": ...}]}``."""

    values: list[dict[str, Any]]


# -- OpenAPI ---------------------------------------------------------------------------------

def documented_response_model(route: BoundRoute) -> Any:
    """What OpenAPI shows as the 2xx body of ``route``."""
    viewset = route.registration.viewset
    if route.extra is not None:
        declared = declared_response(route)
        return viewset.get_response_schema("retrieve") if declared is _UNDECLARED else declared
    if route.action == "destroy":
        return None
    if route.action == "aggregate":
        return AggregateResult
    schema = viewset.get_response_schema(route.action)
    if route.action == "list" and schema is not None:
        return viewset.get_pagination_class().response_schema(schema)
    return schema


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


_UNDECLARED: Any = object()


def declared_response(route: BoundRoute) -> Any:
    """What an ``@action`` says it answers: ``response_model``, else its return annotation
    (None for ``-> None``, answered 204), else ``_UNDECLARED`` (a model instance is assumed)."""
    assert route.extra is not None
    if route.extra.response_model is not None:
        return route.extra.response_model
    returns = action_hints(route).get("return", _UNDECLARED)
    if returns is type(None):
        return None
    if isinstance(returns, type) and issubclass(returns, models.Model):
        return _UNDECLARED
    return returns


def action_status_code(route: BoundRoute) -> int:
    """200, or 204 for an ``@action`` annotated ``-> None``."""
    return 204 if declared_response(route) is None else 200


def action_hints(route: BoundRoute) -> dict[str, Any]:
    """The resolved annotations of an ``@action`` method."""
    assert route.extra is not None
    func = route.extra.func
    try:
        return typing.get_type_hints(func, include_extras=True)
    except NameError as exc:
        raise ImproperlyConfigured(
            f"{route.registration.viewset.__name__}.{func.__name__}: an annotation cannot be "
            f"resolved ({exc}); define the type at module level."
        ) from None


def error_responses(route: BoundRoute) -> dict[int | str, dict[str, Any]]:
    """The error responses ``route`` can answer, for OpenAPI (422 FastAPI adds itself)."""
    responses: dict[int | str, dict[str, Any]] = {}
    if route.registration.security is not None:
        responses[401] = {"model": ErrorBody, "description": "Missing or invalid token"}
    if route.detail or route.registration.parent is not None:
        responses[404] = {"model": ErrorBody, "description": "Not found, or not visible to the caller"}
    if route.registration.viewset.permission_classes or route.registration.security is not None:
        responses[403] = {"model": ErrorBody, "description": "Permission denied"}
    if route.writes:
        responses[409] = {"model": ErrorBody, "description": "Conflicts with stored data"}
    if body_shape_of(route) is not None:
        responses[413] = {"model": ErrorBody, "description": "The body is too large"}
        responses[415] = {"model": ErrorBody, "description": "The body is not JSON"}
    if route.writes and route.detail:
        responses[412] = {"model": ErrorBody, "description": "If-Match names an ETag the row no longer has"}
        if route.registration.viewset.require_if_match:
            responses[428] = {"model": ErrorBody, "description": "If-Match is required"}
    if not route.writes:
        responses[304] = {"description": "Not modified: If-None-Match names the current ETag"}
    return responses


# -- the signature ---------------------------------------------------------------------------

def path_annotation(model_field: models.Field) -> Any:
    """The Python type of a path value that names ``model_field`` (int, UUID or str)."""
    if model_field.is_relation and model_field.target_field is not None:  # a pk that is a FK
        return path_annotation(model_field.target_field)
    if isinstance(model_field, models.UUIDField):
        return uuid.UUID
    if isinstance(model_field, models.IntegerField):
        return int
    return str


def path_parameters(registration: Registration, *, detail: bool) -> list[inspect.Parameter]:
    """One typed path parameter per ancestor, and one for the object itself on detail routes."""
    chain = registration.chain if detail else registration.chain[:-1]
    parameters = []
    for link in chain:
        model_field = link.viewset.get_lookup_model_field()
        meta = link.viewset.get_model()._meta
        max_length = getattr(model_field, "max_length", None) if path_annotation(model_field) is str else None
        parameters.append(inspect.Parameter(
            link.viewset.get_lookup_url_kwarg(),
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                path_annotation(model_field),
                Path(description=f"{meta.verbose_name} {link.viewset.lookup_field}", max_length=max_length),
            ],
        ))
    return parameters


def action_parameters(route: BoundRoute) -> list[inspect.Parameter]:
    """The parameters an ``@action`` method declares itself, beyond ``self`` and ``instance``."""
    assert route.extra is not None
    func = route.extra.func
    hints = action_hints(route)
    skip = 2 if route.extra.detail else 1
    return [
        parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY,
                          annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in list(inspect.signature(func).parameters.values())[skip:]
    ]


def check_extra_action(route: BoundRoute) -> None:
    """Raise ImproperlyConfigured for an ``@action`` that cannot become an endpoint."""
    assert route.extra is not None
    viewset, func = route.registration.viewset.__name__, route.extra.func
    if inspect.iscoroutinefunction(func):
        raise ImproperlyConfigured(
            f"{viewset}.{func.__name__} is async; actions run in the request's threadpool hop "
            "with the ORM, so write it as a plain `def`."
        )
    positional = list(inspect.signature(func).parameters)
    expected = ["self", "instance"] if route.extra.detail else ["self"]
    if positional[: len(expected)] != expected:
        raise ImproperlyConfigured(
            f"{viewset}.{func.__name__} must start with ({', '.join(expected)}) as a "
            f"{'detail' if route.extra.detail else 'list-level'} action."
        )
    taken = RESERVED | {p.name for p in path_parameters(route.registration, detail=route.detail)}
    clash = taken & set(positional[len(expected):])
    if clash:
        raise ImproperlyConfigured(
            f"{viewset}.{func.__name__} has parameters {sorted(clash)} that djfapi passes "
            "itself; rename them."
        )


def access_parameter(route: BoundRoute) -> inspect.Parameter:
    """The security dependency: the token checked for the scopes that grant ``route``."""
    registration = route.registration
    assert registration.security is not None
    required = route.required_scopes
    security = RouteSecurity(registration.security, check_scopes=not registration.checks_scopes_itself,
                             require_tenant=route.requires_tenant)
    dependency: Any = Security(security, scopes=list(required or ()))
    if registration.scopes is not None and required is None:
        dependency = Depends(_denied(security, route.action))
    return inspect.Parameter(ACCESS, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, dependency])


def list_query_parameter(route: BoundRoute) -> inspect.Parameter:
    """Filters and search (and, on a list, ordering) as one async dependency."""
    viewset = route.registration.viewset
    ordering = viewset.get_ordering() if route.action == "list" else None
    dependency = query_dependency(viewset.get_filterset(), viewset.get_search(), ordering)
    return inspect.Parameter(QUERY, inspect.Parameter.KEYWORD_ONLY,
                             annotation=Annotated[Any, Depends(dependency)])


def aggregate_parameters(viewset: type[GenericViewSet]) -> list[inspect.Parameter]:
    """``{function}``, ``{field}`` and ``?group_by=`` of the aggregate route, as enums in OpenAPI."""
    functions = Literal["count", "sum", "avg", "min", "max"]
    fields = Literal[tuple(viewset.aggregate_fields)]  # type: ignore[valid-type]
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("function", keyword, annotation=Annotated[functions, Path()]),
        inspect.Parameter("field", keyword, annotation=Annotated[fields, Path()]),
    ]
    if viewset.aggregate_group_by:
        groups = Literal[tuple(viewset.aggregate_group_by)]  # type: ignore[valid-type]
        parameters.append(inspect.Parameter(
            "group_by", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[list[groups] | None, Query(description="Group the values by these.")],  # type: ignore[valid-type]
        ))
    return parameters


def _denied(security: RouteSecurity, action: str) -> Callable[..., Awaitable[None]]:
    """A dependency for an action ``Scopes`` grants to nobody: 401 without a valid token, else 403."""
    async def denied(**_: Any) -> None:
        raise HTTPException(403, detail=f"No scope grants {action!r} on this resource.")

    denied.__signature__ = inspect.Signature([inspect.Parameter(  # type: ignore[attr-defined]
        ACCESS, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Security(security)])])
    return denied


# -- rendering -------------------------------------------------------------------------------

def renderer_for(route: BoundRoute) -> Renderer:
    viewset = route.registration.viewset
    if route.extra is not None:
        declared = declared_response(route)
        schema = None if declared is _UNDECLARED else declared
        return Renderer(route.status_code, schema, viewset.get_response_schema("retrieve"))
    return Renderer(route.status_code, documented_response_model(route))


# -- the endpoint ----------------------------------------------------------------------------

async def in_hop(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` in the request's one threadpool call; Django's exceptions come back as
    the HTTP errors they stand for."""
    try:
        return await anyio.to_thread.run_sync(func, *args)
    except Exception as exc:
        http_exc = to_http_exception(exc)
        if http_exc is None:
            raise
        raise http_exc from exc


def endpoint_parameters(route: BoundRoute) -> list[inspect.Parameter]:
    """Every input of ``route``'s endpoint: the request, path values, body, pagination, list
    query, aggregate choices, the token, and an ``@action``'s own parameters."""
    viewset = route.registration.viewset
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter(REQUEST, keyword, annotation=Request),
                  *path_parameters(route.registration, detail=route.detail)]
    model_action = route.extra is None
    body_schema = viewset.get_schema(route.action) if model_action else None
    if body_schema is not None:
        parameters.append(inspect.Parameter(BODY, keyword, annotation=Annotated[body_schema, Body()]))
    if model_action and route.action == "list":
        dependency = viewset.get_pagination_class().dependency()
        paginator = Annotated[Any, Depends(dependency)]
        parameters.append(inspect.Parameter(PAGINATOR, keyword, annotation=paginator))
    if model_action and route.action in ("list", "aggregate"):
        parameters.append(list_query_parameter(route))
    if model_action and route.action == "aggregate":
        parameters.extend(aggregate_parameters(viewset))
    if route.registration.security is not None:
        parameters.append(access_parameter(route))
    if not model_action:
        parameters.extend(action_parameters(route))
    if body_shape_of(route) is not None:
        parameters.append(inspect.Parameter(JSON_BODY, keyword,
                                            annotation=Annotated[None, Depends(json_body)]))
    return parameters


async def json_body(request: Request) -> None:
    """415 for a body sent as anything but JSON (``application/json`` or ``*+json``)."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json") and await request.body():
        raise HTTPException(415, detail=f"Send the body as application/json, not {media_type}.")


def other_bearers(route: BoundRoute) -> list[JWTBearer]:
    """The security schemes of ancestors that are not the route's own; each checks the token too."""
    own = route.registration.security
    found: dict[int, JWTBearer] = {}
    for ancestor in route.ancestors:
        security = ancestor.registration.security
        if security is not None and security is not own:
            found.setdefault(id(security), security)
    return list(found.values())


def body_shape_of(route: BoundRoute) -> BodyShape | None:
    """What a body of ``route`` may hold (its write schema, and the read schema's fields), or None."""
    viewset = route.registration.viewset
    if route.extra is None:
        schema = nested_model(viewset.get_schema(route.action))  # create_multi: X | list[X]
        read = viewset.get_response_schema("retrieve")
        return body_shape(schema[0], read, max_items=viewset.max_nested_items) if schema else None
    bodies = [p.annotation for p in action_parameters(route)
              if isinstance(p.annotation, type) and issubclass(p.annotation, BaseModel)]
    return body_shape(bodies[0], max_items=viewset.max_nested_items) if len(bodies) == 1 else None


def build_endpoint(route: BoundRoute) -> Callable[..., Awaitable[Response]]:
    """An async FastAPI endpoint for ``route`` whose ``__signature__`` declares every input."""
    viewset = route.registration.viewset
    parameters = endpoint_parameters(route)
    path_names = [p.name for p in path_parameters(route.registration, detail=route.detail)]
    render = renderer_for(route)
    headers = {"Cache-Control": viewset.cache_control} if viewset.cache_control and not route.writes else {}
    # A strong ETag on what shows a row as its retrieve does, and on every GET's body.
    tagged = not route.writes or (route.extra is None and route.action != "destroy")
    on_row = route.writes and route.detail  # If-Match / If-None-Match are checked on the row
    if viewset.require_if_match and viewset.get_response_schema("retrieve") is None:
        raise ImproperlyConfigured(f"{viewset.__name__}.require_if_match needs a `get` schema: "
                                   "the ETag in If-Match is that of the row's retrieve.")
    bearers = [(id(bearer), RouteSecurity(bearer, require_tenant=route.requires_tenant))
               for bearer in other_bearers(route)]
    shape = body_shape_of(route)
    known: QueryNames | None = None  # set below, once the signature is complete

    async def endpoint(**values: Any) -> Response:
        request: Request = values.pop(REQUEST)
        values.pop(JSON_BODY, None)
        assert known is not None
        known.check(request.query_params.multi_items())
        if shape is not None and await request.body():
            shape.check(await request.json())  # parsed once: Starlette keeps what FastAPI read
        call = Call(
            route=route,
            request=request,
            kwargs={name: values.pop(name) for name in path_names},
            body=values.pop(BODY, None),
            paginator=values.pop(PAGINATOR, None),
            access=values.pop(ACCESS, None),
            query=values.pop(QUERY, None),
            params=values,
        )
        for key, bearer in bearers:
            call.other_access[key] = await bearer(request, SecurityScopes())
        conditions = Conditions.of(request.headers, write=route.writes)
        if on_row:
            if viewset.require_if_match and (conditions is None or conditions.if_match is None):
                raise HTTPException(428, detail=(
                    "Send If-Match with the ETag of a GET of this row: it is changed only when "
                    "nobody changed it since."))
            call.conditions = conditions
        elif conditions is not None and route.writes:
            raise HTTPException(400, detail=(
                "If-Match and If-None-Match apply to a row's own URL (GET, PUT, PATCH, DELETE), "
                "not to this request."))
        for observe in call_observers:
            observe(call)
        status_code, content = await in_hop(run_in_thread, call, render)
        if content is None:
            return Response(status_code=status_code, headers=headers)
        if not tagged:
            return Response(content, status_code, headers, "application/json")
        tag = etag(content)
        if conditions is not None and not route.writes and conditions.not_modified(tag):
            return Response(status_code=304, headers={**headers, "ETag": tag})
        return Response(content, status_code, {**headers, "ETag": tag}, "application/json")

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = route.operation_id
    endpoint.__doc__ = inspect.getdoc(route.extra.func) if route.extra else None
    known = query_names(get_dependant(path=route.path, call=endpoint),
                        [*viewset.get_extra_query_params(), *viewset.get_filterset().query_names()])
    return endpoint
