"""``ViewSetRoute``: the route class of a :class:`~djfapi.routers.Router`. It answers what
FastAPI's ``APIRoute`` answers in ways OpenAPI does not describe:

- a 405 names every method its path serves. FastAPI adds one route a method, and a request
  whose method none of them takes is answered by the first route of the path, whose ``Allow``
  header names its own method only (``PUT /companies`` got ``Allow: GET`` although ``POST`` is
  served there too; RFC 9110 §15.5.6 asks for every method). The methods are looked up in the
  whole app when the 405 is answered, so routes of other routers and of the compat layer at
  the same path count, whatever prefix each router was included under;
- ``HEAD``: the router adds a hidden ``HEAD`` twin of each ``GET`` route, with the same
  endpoint (so the same auth, scopes, tenancy, query, status and ETag); this class sends its
  headers, ``Content-Length`` included, and drops the body;
- ``OPTIONS``: the router adds a hidden ``OPTIONS`` route a path (``options_route=True``),
  answered ``204`` with ``Allow`` and no body, before any dependency runs (no token needed);
- the body is read by :func:`djfapi.inputs.read_body` before FastAPI's own handling: one
  larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, and JSON that is not UTF-8 (RFC 8259
  §8.1) or nested too deeply is the 422 ``json_invalid`` of any other body that is not JSON,
  where FastAPI answered an undocumented 400.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from djfapi.inputs import Security, read_body

__all__ = ["ViewSetRoute", "allowed_methods"]


class ViewSetRoute(APIRoute):
    """An ``APIRoute`` whose 405 lists every method served at its path, which answers ``HEAD``
    without a body and ``OPTIONS`` with ``Allow`` (``options_route``), and whose body is read
    under a size limit and parsed once; the router sets ``max_items`` (the viewset's
    ``max_nested_items``) and ``security`` (its bearer, which checks the token before a large
    body is parsed)."""

    max_items: int | None = None
    security: Security | None = None
    options_route: bool = False

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if self.options_route and method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allowed_methods(scope)})(scope, receive, send)
            return
        if method not in (self.methods or ()):
            raise HTTPException(405, detail="Method Not Allowed", headers={"Allow": allowed_methods(scope)})
        await super().handle(scope, receive, send if method != "HEAD" else _without_body(send))

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def app(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                await read_body(request, max_items=self.max_items, security=self.security)
            return await handler(request)

        return app


def allowed_methods(scope: Scope) -> str:
    """The ``Allow`` header for the request's path: every method a route of the app serves
    there. Looked up when asked (a 405 or an OPTIONS), since routers are included after they
    are built and several may serve one path."""
    methods: set[str] = set()
    # The app answering: scope["router"] stays the outermost one when an app is mounted in another.
    router = getattr(scope.get("app"), "router", None) or scope.get("router")
    probe = {**scope, "method": "\x00"}  # a method no route takes: every path match is PARTIAL
    for route in iter_route_contexts(getattr(router, "routes", ())):
        if route.methods and route.matches(probe)[0] is not Match.NONE:
            methods.update(route.methods)
    return ", ".join(sorted(methods))


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD: the GET's status and headers, ``Content-Length`` included, no body."""

    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
