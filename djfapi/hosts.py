"""Links djfapi builds (``next``/``previous``, the API root) name the host the request came to;
that host is checked against Django's ``ALLOWED_HOSTS`` first, as Django checks every request
it serves, so a forged ``Host`` header can never put another site into a response (or into a
cache that keeps it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from fastapi import HTTPException
from starlette.datastructures import URL, Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AllowedHosts", "checked_url", "host_problem"]


def host_problem(host: str) -> str | None:
    """Why ``host`` (a ``Host`` header) is refused: not one of ``ALLOWED_HOSTS`` (with ``DEBUG``
    and none set, the local ones, as Django); None when it is allowed."""
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    if domain and validate_host(domain, allowed):
        return None
    return (f"Invalid Host header {host[:100]!r}: links and redirects are built from it, so it "
            "must be one of the Django setting ALLOWED_HOSTS.")


def checked_url(request: Request) -> URL:
    """``request.url``, once its host is allowed (:func:`host_problem`); else a 400 naming it."""
    problem = host_problem(request.headers.get("host", ""))
    if problem is not None:
        raise HTTPException(400, detail=problem)
    return request.url


class AllowedHosts:
    """ASGI middleware (added by ``djfapi.install(app)``): a redirect whose ``Location`` names
    the request's host (Starlette's trailing-slash 307 builds it from ``Host``) is sent only for
    a host in ``ALLOWED_HOSTS``; for any other it is a 400 naming the host, so a forged ``Host``
    never becomes a link a client follows or a cache keeps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        refused = False

        async def checked_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                location = Headers(raw=message.get("headers", [])).get("location", "")
                problem = host_problem(host) if urlsplit(location).netloc else None
                if problem is not None:
                    refused = True
                    response = JSONResponse({"detail": problem}, status_code=400)
                    headers = response.raw_headers
                    await send({"type": "http.response.start", "status": 400, "headers": headers})
                    await send({"type": "http.response.body", "body": response.body})
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, checked_send)
