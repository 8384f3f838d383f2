"""``ViewSetRoute``: the route class of a :class:`~djfapi.routers.Router`. It answers what
FastAPI's ``APIRoute`` answers in ways OpenAPI does not describe:

- a 405 names every method its path serves. FastAPI adds one route a method, and a request
  whose method none of them takes is answered by the first route of the path, whose ``Allow``
  header names its own method only (``PUT /companies`` got ``Allow: GET`` although ``POST`` is
  served there too; RFC 9110 §15.5.6 asks for every method). The router records each path's
  methods when it binds them;
- the body is read by :func:`djfapi.inputs.read_body` before FastAPI's own handling: one
  larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, and JSON that is not UTF-8 (RFC 8259
  §8.1) or nested too deeply is the 422 ``json_invalid`` of any other body that is not JSON,
  where FastAPI answered an undocumented 400.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from djfapi.inputs import Security, read_body

__all__ = ["ViewSetRoute"]


class ViewSetRoute(APIRoute):
    """An ``APIRoute`` whose 405 lists ``path_methods``, every method served at its path, and
    whose body is read under a size limit and parsed once; the router sets ``max_items`` (the
    viewset's ``max_nested_items``) and ``security`` (its bearer, which checks the token
    before a large body is parsed)."""

    path_methods: frozenset[str] = frozenset()
    max_items: int | None = None
    security: Security | None = None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path_methods and scope["method"] not in (self.methods or ()):
            raise HTTPException(405, detail="Method Not Allowed",
                                headers={"Allow": ", ".join(sorted(self.path_methods))})
        await super().handle(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def app(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                await read_body(request, max_items=self.max_items, security=self.security)
            return await handler(request)

        return app


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
