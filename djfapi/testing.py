"""Helpers for testing your viewsets: signed tokens and a client that authenticates with them.

::

    from djfapi.testing import Client, make_token

    def test_companies(db):                       # pytest-django
        CompanyFactory(tenant_id="t1")
        client = Client(app).authenticate(scopes=["business.companies.read.any"], tenant="t1")
        assert client.get("/api/companies").json()["total"] == 1

pytest-django's ``db`` fixture and ``django.test.TestCase`` wrap each test in a transaction on
the test thread's connection, which the request's threadpool thread cannot see (the
long-standing fastapi#2075). ``Client`` therefore runs each request's ORM work — everything
inside :func:`djfapi.request_signalling`, as all of djfapi's is — on the test thread's
connections: data the test created is visible, and rolled back after the test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core import signals
from django.db import close_old_connections, connections
from fastapi.testclient import TestClient

__all__ = ["Client", "make_token", "shared_test_connections"]


def make_token(
    scopes: Sequence[str] = (),
    *,
    tenant: str | None = "tenant",
    user: str | None = "user",
    key: Any = None,
    algorithm: str | None = None,
    expires_in: int = 3600,
    scopes_claim: str = "scope",
    **claims: Any,
) -> str:
    """A signed token; ``key`` defaults to settings ``JWT_PRIVATE_KEY``, ``algorithm`` to the
    first of ``JWT_ALGORITHMS``, the issuer to ``JWT_ISSUER``. ``claims`` override any claim;
    a claim given as None is left out (``exp=None`` makes a token without expiry)."""
    import jwt

    now = int(time.time())
    payload: dict[str, Any] = {"iat": now, "nbf": now, "exp": now + expires_in}
    if getattr(settings, "JWT_ISSUER", None):
        payload["iss"] = settings.JWT_ISSUER
    if user is not None:
        payload["sub"] = user
    if tenant is not None:
        payload["ten"] = tenant
    payload[scopes_claim] = list(scopes) if scopes_claim == "aud" else " ".join(scopes)
    payload.update(claims)
    return jwt.encode(
        {name: value for name, value in payload.items() if value is not None},
        key if key is not None else settings.JWT_PRIVATE_KEY,
        algorithm=algorithm or settings.JWT_ALGORITHMS[0],
    )


@contextmanager
def shared_test_connections() -> Iterator[None]:
    """Run every ``request_signalling()`` block, in any thread, on this thread's database
    connections; ``close_old_connections`` is held back meanwhile, as Django's test client does.

    The block's thread takes them over as Django's live server threads do
    (``connections[alias] = connection``), on ``request_started``, and gets its own back on
    ``request_finished``: both are sent in the thread that runs the ORM work.
    """
    shared = {alias: connections[alias] for alias in connections}
    own = threading.local()  # per thread, the connections it had before each block it runs

    def take_over(**kwargs: Any) -> None:
        own.before = [*getattr(own, "before", []), {alias: connections[alias] for alias in shared}]
        for alias, connection in shared.items():
            connections[alias] = connection

    def give_back(**kwargs: Any) -> None:
        before = getattr(own, "before", None)
        if before:  # none for a block that began before sharing did
            for alias, connection in before.pop().items():
                connections[alias] = connection

    for connection in shared.values():
        connection.inc_thread_sharing()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    signals.request_started.connect(take_over, weak=False)
    signals.request_finished.connect(give_back, weak=False)
    try:
        yield
    finally:
        signals.request_started.disconnect(take_over)
        signals.request_finished.disconnect(give_back)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        for connection in shared.values():
            connection.dec_thread_sharing()


class Client(TestClient):
    """FastAPI's ``TestClient`` whose requests see the test's database transaction and can
    carry a token: ``client.authenticate(scopes=[...], tenant=...)``."""

    def __init__(self, app: Any, *args: Any, share_connections: bool = True, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self.share_connections = share_connections

    def authenticate(self, scopes: Sequence[str] = (), **token: Any) -> Client:
        """Send a token made by :func:`make_token` with every following request."""
        self.headers["Authorization"] = f"Bearer {make_token(scopes, **token)}"
        return self

    def logout(self) -> Client:
        """Send no token any more."""
        self.headers.pop("Authorization", None)
        return self

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if not self.share_connections:
            return super().request(*args, **kwargs)
        with shared_test_connections():
            return super().request(*args, **kwargs)
