"""Sentry for djfapi apps; needs ``pip install 'djfapi[sentry]'``.

::

    import djfapi.integrations.sentry

    djfapi.integrations.sentry.init(dsn=os.environ["SENTRY_DSN"], traces_sample_rate=0.2)
    app = FastAPI()
    djfapi.install(app)
    djfapi.integrations.sentry.install(app)   # only this app's requests are reported

:func:`init` is ``sentry_sdk.init`` with :class:`DjfapiIntegration` and sentry-sdk's (automatic)
Django integration — the ORM's queries as spans of the request, even from the threadpool.
:func:`install` reports one app's requests, as sentry-sdk's Starlette integration does — one
transaction a request, named by its route, incoming traces continued, 5xx answers reported —
and adds djfapi's:

- an unhandled error is reported once — by djfapi's 500 (:class:`djfapi.exceptions.ServerErrors`,
  which ``djfapi.install(app)`` adds), else by sentry-sdk's ASGI middleware — tagged
  ``djfapi.route`` (``companies-archive``), ``djfapi.action`` and ``djfapi.viewset``, with a
  ``djfapi`` context (path, operation id, the scope that granted it);
- the caller's ``Access`` becomes Sentry's user (``id``: the ``sub`` claim) and tag ``tenant``;
- every response carries ``X-Flow-ID: <trace id>-<span id>[-<sampled>]`` (the ``sentry-trace``
  format, as djfapi 0.0.x sent), naming the trace of that request's events;
- every event, transaction and log is scrubbed by :func:`scrub_event` before it is sent: no
  Authorization, Proxy-Authorization or Cookie header, and no bearer credentials, JWT or
  ``Access`` claims anywhere (stack frames' variables, breadcrumbs, messages).

Other apps in the process send nothing: sentry-sdk's own Starlette and FastAPI integrations,
which instrument every app, are left off unless you pass them in ``integrations``.

Importing this module without sentry-sdk raises ``ImproperlyConfigured``; djfapi itself never
imports it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope

from djfapi.endpoints import call_observers
from djfapi.exceptions import ImproperlyConfigured, server_error_observers

try:
    import sentry_sdk
    from sentry_sdk.integrations import Integration
    from sentry_sdk.integrations.asgi import SentryAsgiMiddleware
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.logging import ignore_logger
    from sentry_sdk.integrations.starlette import StarletteIntegration
    from sentry_sdk.utils import capture_internal_exceptions, event_from_exception
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImproperlyConfigured(
        "djfapi.integrations.sentry needs sentry-sdk: pip install 'djfapi[sentry]'."
    ) from None

if TYPE_CHECKING:
    from djfapi.dispatch import Call

__all__ = ["DjfapiIntegration", "init", "install", "scrub_event"]

Event = dict[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

REDACTED = "[Filtered]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
SECRETS = re.compile(
    r"\b(?P<scheme>bearer|basic)\s+[^\s'\",;]+"  # an Authorization value, also inside a repr
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)?",  # a JWT, also one cut short
    re.IGNORECASE,
)
# An Access in a frame's variables is its repr: the claims, up to ", granted=" or the cut.
CLAIMS = re.compile(r"(?<=\bAccess\(token=)\{.*?(?:\}(?=, granted=)|$)", re.DOTALL)
SCRUBBED_HOOKS = ("before_send", "before_send_transaction")
# sentry-sdk's integrations that instrument every Starlette app of the process; install(app)
# instruments one app the same way instead.
PROCESS_WIDE = (StarletteIntegration, FastApiIntegration)

# True while a request of an app install() was called on is served: djfapi's observers are
# process-wide lists, and report only for those apps.
in_installed_app: ContextVar[bool] = ContextVar("djfapi_sentry_in_installed_app", default=False)


def init(dsn: str | None = None, *, trace_header: str | None = "X-Flow-ID", **options: Any) -> None:
    """``sentry_sdk.init(dsn=dsn, **options)``, set up for djfapi as the module docstring says.

    ``integrations`` you pass are kept; ``DjfapiIntegration(trace_header=trace_header)`` is
    added unless you pass your own (``trace_header=None``: no trace header). sentry-sdk's
    Starlette and FastAPI integrations are disabled unless you pass one of them (then they
    report every app of the process). Your ``before_send``, ``before_send_transaction`` and
    ``before_send_log`` get the event already scrubbed. Then :func:`install` it on your app.
    """
    if trace_header is not None and not re.fullmatch(r"[A-Za-z0-9-]+", trace_header):
        raise ImproperlyConfigured(
            f"djfapi.integrations.sentry.init(trace_header={trace_header!r}): a header name is "
            "letters, digits and dashes; pass None for no trace header."
        )
    given = list(options.pop("integrations", None) or ())
    taken = {integration.identifier for integration in given}
    if DjfapiIntegration.identifier not in taken:
        given.append(DjfapiIntegration(trace_header=trace_header))
    if not taken & {cls.identifier for cls in PROCESS_WIDE}:  # (the sentry extra needs 2.11)
        options["disabled_integrations"] = [*(options.get("disabled_integrations") or ()), *PROCESS_WIDE]
    hooks = (*SCRUBBED_HOOKS, "before_send_log") if options.get("enable_logs") else SCRUBBED_HOOKS
    for hook in hooks:
        options[hook] = scrubbing(options.get(hook))
    sentry_sdk.init(dsn=dsn, integrations=given, **options)


def install(app: FastAPI) -> None:
    """Report ``app``'s requests to Sentry, as the module docstring says; other apps are left
    alone. Call it before the app serves its first request, after :func:`init` or not.

    Around the app's whole middleware stack, not as a middleware: Starlette answers 500s from
    outside every middleware, and those responses need the trace header most.
    """
    if app.middleware_stack is not None:
        raise ImproperlyConfigured(
            f"djfapi.integrations.sentry.install({type(app).__name__}): the app has served "
            "requests already; install Sentry on it at startup, before its first request."
        )
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        report_http_server_errors(app)
        return ReportedApp(build())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class ReportedApp:
    """ASGI: ``app`` inside sentry-sdk's ASGI middleware (set up as sentry-sdk's Starlette
    integration sets it up for every app), with the trace header; plain when Sentry is off."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.instrumented = SentryAsgiMiddleware(
            app, transaction_style="url", mechanism_type=StarletteIntegration.identifier)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        integration = sentry_sdk.get_client().get_integration(DjfapiIntegration)
        if integration is None:
            return await self.app(scope, receive, send)
        if integration.trace_header is not None and scope["type"] == "http":
            send = trace_header_sender(send, integration.trace_header)
        entered = in_installed_app.set(True)
        try:
            await self.instrumented(scope, receive, send)
        finally:
            in_installed_app.reset(entered)


def report_http_server_errors(app: FastAPI) -> None:
    """Have ``app``'s answer to an ``HTTPException`` report a 5xx one (djfapi's 503 when the
    database is unavailable) as handled, as sentry-sdk's Starlette integration does."""
    handler = app.exception_handlers.get(HTTPException)
    if handler is None:  # pragma: no cover - FastAPI always has one
        return

    async def reporting(request: Request, exc: Exception) -> Response:
        # With sentry-sdk's own Starlette integration also on, its dedupe drops the second report.
        if in_installed_app.get() and isinstance(exc, HTTPException) and exc.status_code >= 500:
            capture(exc, handled=True)
        if inspect.iscoroutinefunction(handler):
            return await handler(request, exc)  # type: ignore[no-any-return]
        response = await run_in_threadpool(handler, request, exc)  # as Starlette runs sync ones
        return await response if inspect.isawaitable(response) else response

    app.exception_handlers[HTTPException] = reporting


class DjfapiIntegration(Integration):
    """Tags each request's scope with its route and caller, and adds the trace header, in the
    apps :func:`install` was called on.

    :func:`init` adds it; with ``sentry_sdk.init`` of your own, pass it in ``integrations`` and
    ``before_send=scrub_event, before_send_transaction=scrub_event``.
    """

    identifier = "djfapi"

    def __init__(self, trace_header: str | None = "X-Flow-ID") -> None:
        self.trace_header = trace_header

    @staticmethod
    def setup_once() -> None:
        call_observers.append(observe_call)
        server_error_observers.append(report_server_error)
        # djfapi.install(app)'s 500 logs the error it answers, and report_server_error reports
        # it; the log line would report it a second time.
        ignore_logger("djfapi")


# -- the request's scope ---------------------------------------------------------------------

def observe_call(call: Call) -> None:
    """Put ``call``'s route and caller on the request's scope, in an installed app."""
    if not in_installed_app.get():
        return
    with capture_internal_exceptions():
        scope = sentry_sdk.Scope.get_isolation_scope()  # sentry_sdk.get_isolation_scope() is newer
        for name, value in route_tags(call).items():
            scope.set_tag(name, value)
        scope.set_context("djfapi", route_context(call))
        user_id = getattr(call.access, "user_id", None)
        tenant_id = getattr(call.access, "tenant_id", None)
        if user_id is not None:
            scope.set_user({"id": str(user_id)})
        if tenant_id is not None:
            scope.set_tag("tenant", str(tenant_id))


def route_tags(call: Call) -> dict[str, str]:
    """The searchable tags of ``call``'s route: its name, action and viewset."""
    route = call.route
    viewset = route.registration.viewset
    return {
        "djfapi.route": route.name,
        "djfapi.action": route.action,
        "djfapi.viewset": f"{viewset.__module__}.{viewset.__qualname__}",
    }


def route_context(call: Call) -> dict[str, Any]:
    """The ``djfapi`` context of an event: where the request went and what granted it."""
    route = call.route
    scope = getattr(call.access, "scope", None)
    return {
        **{key.removeprefix("djfapi."): value for key, value in route_tags(call).items()},
        "path": route.path,  # below the router's mount point; the transaction has the full one
        "operation_id": route.operation_id,
        "granted_by": str(scope) if scope is not None else None,
    }


def report_server_error(exc: Exception) -> None:
    """Report ``exc``, which djfapi answered with a 500, as unhandled, in an installed app.

    In other apps nothing reports it: ``ignore_logger("djfapi")`` is for the whole process.
    """
    if in_installed_app.get():
        capture(exc, handled=False)


def capture(exc: Exception, *, handled: bool) -> None:
    """Report ``exc`` with the request's scope, when a Sentry client is active."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return
    event, hint = event_from_exception(exc, client_options=client.options,
                                       mechanism={"type": DjfapiIntegration.identifier, "handled": handled})
    sentry_sdk.capture_event(event, hint=hint)


# -- the trace header ------------------------------------------------------------------------

def trace_header_sender(send: Send, header: str) -> Send:
    """``send``, adding ``header: <traceparent>`` to the response's start unless it has one."""
    name = header.lower().encode("latin-1")

    async def send_with_trace(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            traceparent = sentry_sdk.get_traceparent()
            if traceparent and all(key.lower() != name for key, _ in headers):
                # a new message: the response's own header list may be sent again
                message = {**message, "headers": [*headers, (name, traceparent.encode("latin-1"))]}
        await send(message)

    return send_with_trace


# -- scrubbing -------------------------------------------------------------------------------

def scrub_event(event: Event, hint: dict[str, Any] | None = None) -> Event:
    """``event`` (an error, a transaction or a log, as sentry-sdk serialised it) without
    credentials: the request's Authorization, Proxy-Authorization and Cookie headers left out,
    and every ``Bearer …``/``Basic …`` value, JWT and ``Access``'s claims (in the repr of an
    ``Access`` among a frame's variables) anywhere replaced by ``[Filtered]``."""
    scrubbed: Event = _scrub(event)
    request = scrubbed.get("request")
    if isinstance(request, dict) and isinstance(request.get("headers"), dict):
        request["headers"] = {
            name: value for name, value in request["headers"].items()
            if name.lower() not in SECRET_HEADERS
        }
    return scrubbed


def scrubbing(hook: Callable[[Event, Any], Event | None] | None) -> Callable[[Event, Any], Event | None]:
    """A ``before_send``-style hook that scrubs, then hands the event to ``hook``."""
    def before_send(event: Event, hint: Any) -> Event | None:
        scrubbed = scrub_event(event, hint)
        return hook(scrubbed, hint) if hook is not None else scrubbed

    return before_send


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return CLAIMS.sub(REDACTED, SECRETS.sub(_redact, value))
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and key.lower() in SECRET_HEADERS else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _redact(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    return f"{scheme} {REDACTED}" if scheme else REDACTED
