"""``ViewSetRoute``: the route class of a :class:`~djfapi.routers.Router`, whose 405 names every
method its path serves.

FastAPI adds one route a method, and a request whose method none of them takes is answered by
the first route of the path, whose ``Allow`` header names its own method only: ``PUT
/companies`` got ``Allow: GET`` although ``POST`` is served there too (RFC 9110 §15.5.6 asks
for the methods the resource supports). The router records each path's methods when it binds
them; the route answers a 405 with all of them.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

__all__ = ["ViewSetRoute"]


class ViewSetRoute(APIRoute):
    """An ``APIRoute`` whose 405 lists ``path_methods``, every method served at its path."""

    path_methods: frozenset[str] = frozenset()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path_methods and scope["method"] not in self.methods:
            raise HTTPException(405, detail="Method Not Allowed",
                                headers={"Allow": ", ".join(sorted(self.path_methods))})
        await super().handle(scope, receive, send)
