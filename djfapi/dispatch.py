"""What runs in a request's one threadpool hop, inside ``request_signalling()``: the viewset
and its ancestors (parent lookups), permissions, the body's validation, the action, and the
JSON the result becomes.

:mod:`djfapi.endpoints` builds a :class:`~djfapi.call.Call` from what FastAPI parsed and hands
it to :func:`run_in_thread`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import close_old_connections, models, transaction
from django.db import router as db_router
from fastapi import HTTPException
from starlette.responses import Response

from djfapi.call import Call, granted, lookup_parent, make_viewset
from djfapi.conditional import etag
from djfapi.nesting import RegisteredNesting
from djfapi.permissions.users import resolve_user
from djfapi.rendering import Renderer, validate_body
from djfapi.routes import Answer, Registration
from djfapi.schemas.forms import attach_uploads, deleted_on_rollback
from djfapi.signalling import request_signalling
from djfapi.viewsets.generic import GenericViewSet
from djfapi.viewsets.plain import is_model_less

__all__ = ["Call", "Renderer", "run_action", "run_awaited", "run_in_thread"]


def target_viewset(call: Call, action: str | None = None) -> GenericViewSet:
    """A viewset of the route's registration for ``call`` (for ``action``, the route's own by
    default), the caller's access as that action sees it."""
    route, registration = call.route, call.route.registration
    scopes = route.required_scopes if action is None else registration.granting[action]
    access, source = call.access, registration.scope_source
    if action is not None or source is not None:  # as this action sees it
        # The route's own action: with a scope source the token's scopes were not checked on
        # the event loop; what the source grants is, here.
        checked = action is None and source is not None and registration.checks_scopes
        message = source.message if source is not None else ""
        access = granted(call, registration, access, scopes, checked, lambda: message)
    return make_viewset(registration, action or route.action, call, access, required_scopes=scopes,
                        nesting=RegisteredNesting(registration, call))


def validated_body(viewset: GenericViewSet, call: Call) -> Any:
    """The body validated against ``viewset.get_schema()`` with its context; None without one."""
    if call.route.body_schema is None:
        return None
    context = viewset.get_schema_context()
    body = validate_body(viewset.get_schema(), call.route.body_schema, call.body, context,
                         partial=call.route.action == "partial_update")
    if call.uploads:
        attach_uploads(body, call.uploads)
    return body


def run_action(call: Call, viewset: GenericViewSet, body: Any) -> Any:
    """Run the route's action on ``viewset`` (its permissions checked and its parent looked up)
    with ``body``; ORM work only, no rendering."""
    if body is not None:
        viewset.check_body_scopes(body)
    return _run(viewset, call, body)


def _run(viewset: GenericViewSet, call: Call, body: Any) -> Any:
    route = call.route
    method = getattr(viewset, route.action)
    if route.extra is None:
        return method(body, **call.params) if route.body_schema is not None else method(**call.params)
    if not route.extra.writes:
        return _call_extra(viewset, method, call)
    with viewset.atomic():
        return _call_extra(viewset, method, call)


def _call_extra(viewset: GenericViewSet, method: Callable[..., Any], call: Call) -> Any:
    if call.route.detail:
        instance = viewset.get_object_for_write() if call.route.writes else viewset.get_object()
        return method(instance, **call.params)
    return method(**call.params)


def run_in_thread(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    """The request's one threadpool hop: all ORM work and rendering, inside the signalling.
    As in DRF, permissions come first, then the parents, then the body's validation (so
    validators may read ``self.parent``, and a body is judged only for a caller who may
    send it); a body that does not fit is refused before the write's transaction. A write
    and its rendering share one transaction: a response that cannot be built rolls the
    write back, so a client never gets a 500 for a change that was stored."""
    with request_signalling():
        call.request.scope["user"] = resolve_user(call.access, call.route.registration.user_loader)
        viewset = target_viewset(call)
        viewset.check_permissions()
        viewset.check_throttles()
        viewset.parent = lookup_parent(call)
        body = validated_body(viewset, call)
        if not call.route.writes:
            return _act(call, render, viewset, body)
        viewset_class = call.route.registration.viewset
        using = None if is_model_less(viewset_class) else db_router.db_for_write(viewset_class.get_model())
        # Files are deleted only for an error inside the transaction: never after its COMMIT
        # (an on_commit callback that raises leaves the write, and its files, stored).
        with transaction.atomic(using=using), deleted_on_rollback():
            return _act(call, render, viewset, body)


def _act(call: Call, render: Renderer, viewset: GenericViewSet, body: Any) -> tuple[int, bytes | None]:
    if call.conditions is not None:
        call.conditions = dataclasses.replace(call.conditions, current=current_etag(call))
        viewset.conditions = call.conditions
    viewset.initial()
    return _answered(call, render, viewset, run_action(call, viewset, body))


def _answered(call: Call, render: Renderer, viewset: GenericViewSet, result: Any) -> tuple[int, bytes | None]:
    """``result`` after ``finalize_response()``, as JSON; a Response is kept in ``call`` as it is."""
    result = viewset.finalize_response(result)
    call.headers, call.status_code = viewset.headers, viewset.status_code
    if isinstance(result, Response):
        call.response = result
        return result.status_code, None
    paged = call.route.extra is not None and call.route.extra.paginated  # rows as declared on the action
    return render(result, viewset.get_response_schema() if render.answer.rows is not None and not paged
                  else None, _granted(viewset), viewset.get_schema_context())


# -- async def actions ------------------------------------------------------------------------

async def run_awaited(call: Call, render: Renderer) -> tuple[int, bytes | None]:
    """An ``async def`` action: its checks (permissions, parents, ``initial()``, a detail
    action's ``get_object()``) in one threadpool hop, then the method awaited on the event loop,
    then ``finalize_response()`` and the JSON in the thread Django's async ORM used, whose
    connections are closed before the response leaves (as Django's ASGI handler does)."""
    viewset, args = await anyio.to_thread.run_sync(_prepared, call)
    async with ThreadSensitiveContext():  # this request's async ORM calls share one thread
        try:
            result = await getattr(viewset, call.route.action)(*args, **call.params)
            return await sync_to_async(_answered)(call, render, viewset, result)
        finally:
            await sync_to_async(close_old_connections)()


def _prepared(call: Call) -> tuple[GenericViewSet, tuple[Any, ...]]:
    """The viewset of an async action, checked, and the instance of a detail action."""
    if call.conditions is not None:
        raise HTTPException(400, detail="If-Match and If-None-Match are not checked by an async action; "
                                        "leave them out.")
    with request_signalling():
        call.request.scope["user"] = resolve_user(call.access, call.route.registration.user_loader)
        viewset = target_viewset(call)
        viewset.check_permissions()
        viewset.check_throttles()
        viewset.parent = lookup_parent(call)
        viewset.initial()
        return viewset, ((viewset.get_object(),) if call.route.detail else ())


def _granted(viewset: GenericViewSet) -> frozenset[str]:
    return viewset.access.granted if viewset.access is not None else frozenset()


def current_etag(call: Call) -> Callable[[models.Model], str]:
    """How the ETag of a row is worked out on ``call``'s route: from what its retrieve answers
    this caller (the retrieve's own per-request schema and context)."""
    render = retrieve_renderer(call.route.registration)

    def current(row: models.Model) -> str:
        viewset = target_viewset(call, "retrieve")
        return etag(render(row, viewset.get_response_schema(), _granted(viewset),
                           viewset.get_schema_context())[1] or b"")

    return current


@functools.cache
def retrieve_renderer(registration: Registration) -> Renderer:
    """What ``registration``'s retrieve answers with; made once."""
    rows = registration.viewset.declared_response_schema("retrieve")
    return Renderer(Answer(200, rows, rows=rows))
