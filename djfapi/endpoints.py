"""Turns a bound route into a FastAPI endpoint with a real signature and a single threadpool hop.

What runs inside that hop lives in :mod:`djfapi.dispatch`.

The endpoint is ``async``: FastAPI parses path values, query parameters and the body's JSON on
the event loop (a bad one is a 422 before any ORM work). Then exactly one
``anyio.to_thread.run_sync`` call runs, inside :func:`~djfapi.request_signalling`, all ORM
work of the request: parent lookups, the viewset's hooks, the body's validation against the
call's schema (with its ``get_schema_context()``), the writes, and turning the result into
JSON bytes. OpenAPI shows the declared body and response schemas.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import unquote_to_bytes

import anyio.to_thread
from fastapi import Body, Depends, HTTPException, Path, Query, Request, Response, Security
from fastapi.dependencies.utils import get_dependant
from fastapi.security import SecurityScopes
from pydantic import AfterValidator, PlainValidator
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import UploadFile

from djfapi.call import Call
from djfapi.conditional import Conditions, etag
from djfapi.dispatch import Renderer, run_awaited, run_in_thread
from djfapi.exceptions import ImproperlyConfigured, to_http_exception
from djfapi.filters import query_dependency
from djfapi.inputs import QueryNames, query_names
from djfapi.meta import path_value_type
from djfapi.permissions.jwt import JWTBearer, RouteSecurity
from djfapi.routes import BoundRoute, Registration, extra_pagination
from djfapi.schemas.forms import FORM_TYPES, FormShape
from djfapi.viewsets.actions import RESERVED_PARAMETERS
from djfapi.viewsets.generic import GenericViewSet
from djfapi.viewsets.plain import is_model_less

__all__ = ["build_endpoint", "call_observers", "in_hop", "path_parameters"]

# Names of the endpoint parameters djfapi adds itself; an @action's own parameters may not use them.
REQUEST, BODY, PAGINATOR, ACCESS, QUERY = "request", "body", "paginator", "access", "list_query"
JSON_BODY = "json_body"
assert {REQUEST, BODY, PAGINATOR, ACCESS, QUERY, JSON_BODY} <= RESERVED_PARAMETERS

# Called with each request's Call on the event loop, before its threadpool hop; integrations
# (djfapi.integrations.sentry) add to it. Empty, and so free, unless one is set up.
call_observers: list[Callable[[Call], None]] = []

KEYWORD = inspect.Parameter.KEYWORD_ONLY


# -- the signature ---------------------------------------------------------------------------

def path_parameters(registration: Registration, *, detail: bool) -> list[inspect.Parameter]:
    """One typed path parameter per ancestor, and one for the object itself on detail routes."""
    chain = registration.chain if detail else registration.chain[:-1]
    parameters = []
    for link in chain:
        model_field = link.viewset.get_lookup_model_field()
        noun = link.prefix if is_model_less(link.viewset) else link.viewset.get_model()._meta.verbose_name
        kind = path_value_type(model_field)
        max_length = getattr(model_field, "max_length", None) if kind is str else None
        path = Path(description=f"{noun} {link.viewset.lookup_field}", max_length=max_length)
        checked = Annotated[kind, AfterValidator(_storable)] if kind is str else kind
        parameters.append(inspect.Parameter(link.viewset.get_lookup_url_kwarg(), KEYWORD,
                                            annotation=Annotated[checked, path]))
    return parameters


def _storable(value: str) -> str:
    """A text path value no database refuses to compare (PostgreSQL has no NUL in text)."""
    if "\x00" in value:
        raise ValueError("a path value cannot hold a NUL character")
    return value


def body_parameter(schema: Any) -> inspect.Parameter:
    """The body: its JSON, taken as it is (the hop validates it against the call's schema, with
    its context); OpenAPI shows ``schema``."""
    raw = Annotated[Any, PlainValidator(_as_sent, json_schema_input_type=schema)]
    return inspect.Parameter(BODY, KEYWORD, annotation=Annotated[raw, Body()])


def _as_sent(value: Any) -> Any:
    return value


def access_parameter(route: BoundRoute) -> inspect.Parameter:
    """The security dependency: the token checked for the scopes that grant ``route``."""
    registration = route.registration
    if registration.security is None:
        raise ImproperlyConfigured(f"{route.name} has no security to check a token with.")
    required = route.required_scopes
    security = RouteSecurity(registration.security, check_scopes=registration.scope_source is None,
                             require_tenant=route.requires_tenant)
    dependency: Any = Security(security, scopes=list(required or ()))
    if registration.scopes is not None and required is None:
        dependency = Depends(_denied(security, route.action))
    return inspect.Parameter(ACCESS, KEYWORD, annotation=Annotated[Any, dependency])


def list_query_parameter(route: BoundRoute) -> inspect.Parameter:
    """Filters and search (and, on a list, ordering) as one async dependency."""
    viewset = route.registration.viewset
    ordering = viewset.declared_ordering() if route.action == "list" else None
    dependency = query_dependency(viewset.declared_filterset(), viewset.declared_search(), ordering)
    return inspect.Parameter(QUERY, KEYWORD, annotation=Annotated[Any, Depends(dependency)])


def aggregate_parameters(viewset: type[GenericViewSet]) -> list[inspect.Parameter]:
    """``{function}``, ``{field}`` and ``?group_by=`` of the aggregate route, as enums in OpenAPI."""
    functions = Literal["count", "sum", "avg", "min", "max"]
    fields = Literal[tuple(viewset.aggregate_fields)]  # type: ignore[valid-type]
    parameters = [
        inspect.Parameter("function", KEYWORD, annotation=Annotated[functions, Path()]),
        inspect.Parameter("field", KEYWORD, annotation=Annotated[fields, Path()]),
    ]
    if viewset.aggregate_group_by:
        groups = Literal[tuple(viewset.aggregate_group_by)]  # type: ignore[valid-type]
        parameters.append(inspect.Parameter(
            "group_by", KEYWORD, default=None,
            annotation=Annotated[list[groups] | None, Query(description="Group the values by these.")],  # type: ignore[valid-type]
        ))
    return parameters


def _denied(security: RouteSecurity, action: str) -> Callable[..., Awaitable[None]]:
    """A dependency for an action ``Scopes`` grants to nobody: 401 without a valid token, else 403."""
    async def denied(**_: Any) -> None:
        raise HTTPException(403, detail=f"No scope grants {action!r} on this resource.")

    denied.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(ACCESS, KEYWORD, annotation=Annotated[Any, Security(security)])])
    return denied


def endpoint_parameters(route: BoundRoute, form: FormShape | None = None) -> list[inspect.Parameter]:
    """Every input of ``route``'s endpoint: the request, path values, body, pagination, list
    query, aggregate choices, the token, and an ``@action``'s own parameters."""
    viewset = route.registration.viewset
    parameters = [inspect.Parameter(REQUEST, KEYWORD, annotation=Request),
                  *path_parameters(route.registration, detail=route.detail)]
    if route.body_schema is not None:
        parameters.append(body_parameter(route.body_schema))
    if route.extra is None and route.action == "list":
        paginator = Annotated[Any, Depends(viewset.declared_pagination_class().dependency())]
        parameters.append(inspect.Parameter(PAGINATOR, KEYWORD, annotation=paginator))
    if route.extra is not None and route.extra.paginated:
        paged = Annotated[Any, Depends(extra_pagination(viewset, route.extra).dependency())]
        parameters.append(inspect.Parameter(PAGINATOR, KEYWORD, annotation=paged))
    if route.extra is None and route.action in ("list", "aggregate"):
        parameters.append(list_query_parameter(route))
    if route.extra is None and route.action == "aggregate":
        parameters.extend(aggregate_parameters(viewset))
    if route.registration.security is not None:
        parameters.append(access_parameter(route))
    if route.signature is not None:
        parameters.extend(route.signature.parameters)
    if route.body_shape is not None:
        checked = Annotated[None, Depends(json_body if form is None else json_or_form_body)]
        parameters.append(inspect.Parameter(JSON_BODY, KEYWORD, annotation=checked))
    return parameters


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";")[0].strip().lower()


async def json_body(request: Request) -> None:
    """415 for a body sent as anything but JSON (``application/json`` or ``*+json``)."""
    await _media_checked(request, forms=False)


async def json_or_form_body(request: Request) -> None:
    """415 for a body sent as anything but JSON or a form (multipart or urlencoded)."""
    await _media_checked(request, forms=True)


async def _media_checked(request: Request, *, forms: bool) -> None:
    sent = media_type(request)
    taken = sent == "application/json" or sent.endswith("+json") or (forms and sent in FORM_TYPES)
    if not taken and await request.body():
        accepted = "application/json, multipart/form-data or application/x-www-form-urlencoded" if forms \
            else "application/json"
        raise HTTPException(415, detail=f"Send the body as {accepted}, not {sent}.")


async def form_body(request: Request, form: FormShape) -> tuple[dict[str, Any], dict[str, Any]]:
    """A form body as the JSON object it stands for, checked like one, and its uploaded files."""
    if media_type(request) == "application/x-www-form-urlencoded":
        check_utf8_form(await request.body())
    try:  # one file more than the fields take: two in a field is a 422
        sent = await request.form(max_files=len(form.files) + 1)
    except MultipartParseError as error:  # Starlette < 1.0 let python-multipart's error through
        raise HTTPException(400, detail=f"The multipart body cannot be read: {error}") from None
    data, uploads, errors = form.read(sent)
    if errors:
        raise HTTPException(422, detail=errors)
    return data, uploads


async def checked_inputs(route: BoundRoute, form: FormShape | None, request: Request,
                         values: dict[str, Any], known: QueryNames | None) -> dict[str, Any]:
    """Check the query's names, and the body's keys against the route's body shape (a form read
    first into the body it stands for); the form's uploaded files."""
    values.pop(JSON_BODY, None)
    if known is not None:
        known.check(request.query_params.multi_items())
    uploads: dict[str, Any] = {}
    as_form = form is not None and media_type(request) in FORM_TYPES
    if as_form:
        values[BODY], uploads = await form_body(request, form)  # type: ignore[arg-type]
    if route.body_shape is not None and await request.body():
        # parsed once: Starlette keeps what FastAPI read
        route.body_shape.check(values[BODY] if as_form else await request.json())
    return uploads


def check_utf8_form(body: bytes) -> None:
    """A 422 at the first name or value of an urlencoded ``body`` that is not UTF-8 once
    percent-decoded (Starlette would replace the bytes, storing text nobody sent)."""
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                name = unquote_to_bytes(pair.split(b"=", 1)[0]).decode("utf-8", "replace")[:100]
                raise HTTPException(422, detail=[{"loc": ["body", name], "type": "unicode",
                                                  "msg": "Not UTF-8 once percent-decoded."}]) from None


async def closed(uploads: dict[str, Any]) -> None:
    for upload in uploads.values():
        if isinstance(upload, UploadFile):  # not KEPT, a file input left empty
            await upload.close()


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


async def run_call(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    """The request's work: in its one threadpool hop, or around an ``async def`` action; a
    form's files are closed after it."""
    try:
        if call.route.extra is not None and call.route.extra.is_async:
            return await http_errors(run_awaited(call, render))  # type: ignore[no-any-return]
        return await in_hop(run_in_thread, call, render)  # type: ignore[no-any-return]
    finally:
        await closed(call.uploads)


async def http_errors(awaitable: Awaitable[Any]) -> Any:
    """What ``awaitable`` returns; Django's exceptions come back as the HTTP errors they stand for."""
    try:
        return await awaitable
    except Exception as exc:
        http_exc = to_http_exception(exc)
        if http_exc is None:
            raise
        raise http_exc from exc


def other_bearers(route: BoundRoute) -> list[JWTBearer]:
    """The security schemes of ancestors that are not the route's own; each checks the token too."""
    own = route.registration.security
    found: dict[int, JWTBearer] = {}
    for ancestor in route.ancestors:
        security = ancestor.registration.security
        if security is not None and security is not own:
            found.setdefault(id(security), security)
    return list(found.values())


def preconditions(route: BoundRoute, request: Request) -> tuple[Conditions | None, Conditions | None]:
    """The request's ``If-Match`` / ``If-None-Match``, and those checked on the row in the hop
    (a write on a row). 428 when the viewset requires If-Match and it is missing; 400 for
    preconditions on a write that is not on a row."""
    conditions = Conditions.of(request.headers, write=route.writes)
    if route.writes and route.detail:
        missing = conditions is None or conditions.if_match is None
        if route.registration.viewset.require_if_match and missing:
            raise HTTPException(428, detail=(
                "Send If-Match with the ETag of a GET of this row: it is changed only when "
                "nobody changed it since."))
        return conditions, conditions
    if conditions is not None and route.writes:
        raise HTTPException(400, detail=(
            "If-Match and If-None-Match apply to a row's own URL (GET, PUT, PATCH, DELETE), "
            "not to this request."))
    return conditions, None


def check_endpoint(route: BoundRoute) -> None:
    """ImproperlyConfigured for options of the viewset this route cannot honour."""
    viewset = route.registration.viewset
    if viewset.require_if_match and viewset.declared_response_schema("retrieve") is None:
        raise ImproperlyConfigured(f"{viewset.__name__}.require_if_match needs a `get` schema: "
                                   "the ETag in If-Match is that of the row's retrieve.")


def build_endpoint(route: BoundRoute, form: FormShape | None = None) -> Callable[..., Awaitable[Response]]:
    """An async FastAPI endpoint for ``route`` whose ``__signature__`` declares every input;
    with ``form``, its body may also be a form (multipart with files, or urlencoded)."""
    check_endpoint(route)
    viewset = route.registration.viewset
    path_names = route.registration.path_names(detail=route.detail)
    render = Renderer(route.answer)
    headers = {"Cache-Control": viewset.cache_control} if viewset.cache_control and not route.writes else {}
    if route.registration.security is not None:  # the answer depends on the token: no cache shares it
        headers["Vary"] = "Authorization"
    # A strong ETag on what shows a row as its retrieve does, and on every GET's body.
    tagged = not route.writes or (route.extra is None and route.action != "destroy")
    bearers = [(id(bearer), RouteSecurity(bearer, require_tenant=route.requires_tenant))
               for bearer in other_bearers(route)]
    known: QueryNames | None = None  # set below, once the signature is complete

    async def endpoint(**values: Any) -> Response:
        request: Request = values.pop(REQUEST)
        uploads = await checked_inputs(route, form, request, values, known)
        call = Call(route=route, request=request, kwargs={name: values.pop(name) for name in path_names},
                    body=values.pop(BODY, None), paginator=values.pop(PAGINATOR, None),
                    access=values.pop(ACCESS, None), query=values.pop(QUERY, None), params=values,
                    uploads=uploads)
        for key, bearer in bearers:
            call.other_access[key] = await bearer(request, SecurityScopes())
        conditions, call.conditions = preconditions(route, request)
        for observe in call_observers:
            observe(call)
        status_code, content = await run_call(call, render)
        return finished(call, respond(call.status_code or status_code, content, headers,
                                      conditions if tagged and not route.writes and call.status_code is None
                                      else None, tagged))

    endpoint.__signature__ = inspect.Signature(endpoint_parameters(route, form))  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = route.operation_id
    endpoint.__doc__ = inspect.getdoc(route.extra.func) if route.extra else None
    known = query_names(get_dependant(path=route.path, call=endpoint),
                        [*viewset.declared_extra_query_params(),
                         *(() if is_model_less(viewset) else viewset.declared_filterset().query_names())])
    return endpoint


def finished(call: Call, response: Response) -> Response:
    """``response`` with the headers the viewset set; a Response the action returned instead."""
    if call.response is not None:
        return call.response
    response.headers.update(call.headers)
    return response


def respond(status_code: int, content: bytes | None, headers: dict[str, str], conditions: Conditions | None,
            tagged: bool) -> Response:
    """The response: no body for a 204, a strong ETag on ``tagged`` bodies, a 304 when a GET's
    ``conditions`` say the client has this one."""
    if content is None:
        return Response(status_code=status_code, headers=headers)
    if not tagged:
        return Response(content, status_code, headers, "application/json")
    tag = etag(content)
    if conditions is not None and conditions.not_modified(tag):
        return Response(status_code=304, headers={**headers, "ETag": tag})
    return Response(content, status_code, {**headers, "ETag": tag}, "application/json")
