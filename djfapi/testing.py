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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core import signals
from django.db import close_old_connections, connections
from fastapi.testclient import TestClient

from djfapi.tokens import sign_token as make_token

__all__ = ["Client", "make_token", "shared_test_connections"]


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
