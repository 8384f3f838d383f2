"""Errors: djfapi's configuration error, and Django's exceptions as JSON HTTP errors.

Generated endpoints translate Django's exceptions themselves; :func:`install` adds the same
translation as exception handlers for the rest of an app (hand-written routes), plus
:class:`ServerErrors`: any other error is a 500 whose body carries no internals, logged once,
with the client's keep-alive connection left open::

    app = FastAPI()
    djfapi.install(app)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core import exceptions as django_exceptions
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from djfapi.hosts import AllowedHosts

__all__ = [
    "ErrorBody", "ImproperlyConfigured", "InvalidBody", "InvalidInput", "ServerErrors", "install",
    "to_http_exception",
]

logger = logging.getLogger("djfapi")

RETRY_AFTER = 5  # seconds a client is asked to wait when the database is unavailable (503)

# Called with each error ServerErrors answers with a 500, inside the request; integrations
# (djfapi.integrations.sentry) add to it, as the error no longer reaches the server's middleware.
server_error_observers: list[Callable[[Exception], None]] = []


class ImproperlyConfigured(django_exceptions.ImproperlyConfigured):
    """A viewset, router or schema is set up wrongly; the message says how to fix it."""


class InvalidInput(Exception):
    """Errors at places in the request, answered like FastAPI's own 422 (or 409 for conflicts).

    ``errors`` are dicts with ``loc``, which says where: in the body, the query or the path
    (e.g. ``["body", "departments", 0, "name"]``, ``["query", "search"]``), ``msg`` and ``type``.
    """

    def __init__(self, errors: list[dict[str, Any]], *, status_code: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status_code = status_code

    @classmethod
    def at(cls, loc: tuple[Any, ...], msg: str, type: str = "value_error") -> InvalidInput:
        """One error at ``loc``."""
        return cls([{"loc": list(loc), "msg": msg, "type": type}])


# Its name from when it was meant for the body's errors only: the same class, so code that
# raises or catches InvalidBody keeps working.
InvalidBody = InvalidInput


class ErrorBody(BaseModel):
    """The body of every error response (documented in OpenAPI)."""

    detail: Any


def _validation_detail(exc: django_exceptions.ValidationError) -> list[dict[str, Any]]:
    """Django's ValidationError in the shape of FastAPI's 422 ``detail`` list."""
    if hasattr(exc, "error_dict"):
        return [
            {"loc": ["body", *([] if field == django_exceptions.NON_FIELD_ERRORS else [field])],
             "msg": message, "type": "validation_error"}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"loc": ["body"], "msg": message, "type": "validation_error"} for message in exc.messages]


_ROLLED_BACK = {"40001", "40P01"}  # serialization_failure, deadlock_detected (PostgreSQL's SQLSTATEs)

_SUSPICIOUS = {"SuspiciousFileOperation": (
    "A file name in the request cannot be stored: it is not a name, or it points outside the "
    "upload directory (SuspiciousFileOperation).")}


def to_http_exception(exc: Exception) -> HTTPException | None:
    """The HTTP error a Django exception stands for, or None when it is not one of them."""
    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, InvalidInput):
        return HTTPException(exc.status_code, detail=exc.errors)
    if isinstance(exc, (Http404, django_exceptions.ObjectDoesNotExist)):
        return HTTPException(404, detail=str(exc) or "Not found.")
    if isinstance(exc, django_exceptions.PermissionDenied):
        return HTTPException(403, detail=str(exc) or "You may not perform this action.")
    if isinstance(exc, django_exceptions.SuspiciousOperation):
        # As Django answers it: a 400, logged on django.security.<class>, its message not sent.
        name = type(exc).__name__
        logging.getLogger(f"django.security.{name}").warning("%s", exc)
        detail = _SUSPICIOUS.get(name, f"The request was refused as suspicious ({name}).")
        return HTTPException(400, detail=detail)
    if isinstance(exc, django_exceptions.ValidationError):
        return HTTPException(422, detail=_validation_detail(exc))
    if isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in _ROLLED_BACK:
        # A deadlock or serialization failure: the database rolled this request back for another.
        logger.info("transaction conflict answered with 409: %s", exc)
        return HTTPException(409, detail="The request conflicted with a concurrent one and was rolled "
                                         "back; send it again.", headers={"Retry-After": "1"})
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is down, restarting, out of connections or timed out: the client may
        # try again; what the driver said is logged, not sent.
        logger.warning("database unavailable, answered with 503: %s", exc)
        return HTTPException(503, detail="The database is unavailable; try again shortly.",
                             headers={"Retry-After": str(RETRY_AFTER)})
    if isinstance(exc, DataError):
        # A value that passed validation but not the column (too long, out of range): the
        # database's message names tables and types, so it is logged, not sent.
        logger.info("data error answered with 422: %s", exc)
        return HTTPException(422, detail=[{"loc": ["body"], "type": "value_error",
                                           "msg": "A value does not fit the column it is stored in."}])
    if isinstance(exc, IntegrityError):
        # The database's message names tables and constraints: log it, do not send it.
        logger.info("integrity error answered with 409: %s", exc)
        return HTTPException(409, detail="The change conflicts with data already stored.")
    return None


async def _django_exception_handler(request: Request, exc: Exception) -> Any:
    http_exc = to_http_exception(exc)
    if http_exc is None:  # pragma: no cover - registered only for translatable classes
        return await _server_error_handler(request, exc)
    return await http_exception_handler(request, http_exc)


async def _server_error_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


class ServerErrors:
    """ASGI middleware: an error nothing else handled is a JSON 500, logged once on "djfapi".

    Starlette's own 500 (``ServerErrorMiddleware``) raises the error again once it has answered:
    the server logs it a second time and closes the connection, so a keep-alive client's next
    request fails. Here it ends with the response. An error after the response has started is
    left to the server: closing the connection is then the only way to tell the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            for observe in server_error_observers:
                observe(exc)
            response = await _server_error_handler(Request(scope), exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer Django's exceptions, and any other error (500), as JSON errors with a ``detail``,
    anywhere in ``app``, and send no redirect built from a ``Host`` outside ``ALLOWED_HOSTS``
    (a 400 instead, as Django). Call it after adding middleware of your own (Starlette wraps later middleware
    around earlier ones), so that an error in yours is covered too."""
    for exc_class in (
        InvalidInput,
        django_exceptions.ObjectDoesNotExist,
        Http404,
        django_exceptions.PermissionDenied,
        django_exceptions.SuspiciousOperation,
        django_exceptions.ValidationError,
        DataError,
        IntegrityError,
        OperationalError,
        InterfaceError,
    ):
        app.add_exception_handler(exc_class, _django_exception_handler)
    app.add_middleware(ServerErrors)
    app.add_middleware(AllowedHosts)  # outermost: it sees every redirect
    # An error in middleware added after install() reaches Starlette's 500, still answered as JSON.
    app.add_exception_handler(Exception, _server_error_handler)
