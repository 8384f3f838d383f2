"""Links djfapi builds (``next``/``previous``, the API root) name the host the request came to;
that host is checked against Django's ``ALLOWED_HOSTS`` first, as Django checks every request
it serves, so a forged ``Host`` header can never put another site into a response (or into a
cache that keeps it)."""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from fastapi import HTTPException
from starlette.datastructures import URL
from starlette.requests import Request

__all__ = ["checked_url"]


def checked_url(request: Request) -> URL:
    """``request.url``, once its host is one of ``ALLOWED_HOSTS`` (with ``DEBUG`` and none
    set, the local ones, as Django); else a 400 naming the host."""
    host = request.headers.get("host", "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed):
        raise HTTPException(400, detail=f"Invalid Host header {host[:100]!r}: links are built from it, "
                                        "so it must be one of the Django setting ALLOWED_HOSTS.")
    return request.url
