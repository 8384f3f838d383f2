"""Shared fixtures: every test gets a flushed, committed-data database and a client."""

import os
import threading
import unittest

import pytest
from django.db.backends import utils as backend_utils
from fastapi.testclient import TestClient

from djfapi.viewsets.declared import DeclaredViewSet
from tests.testapp import library, secured
from tests.testapp.api import create_app

# DJFAPI_TEST_READ_ROWS=instances runs the suite with every list reading model instances (the
# path a schema with properties or methods takes), as scripts/run_tests.py does once: the
# answers must be the same on both paths.
READ_ROWS = os.environ.get("DJFAPI_TEST_READ_ROWS", "auto")
DeclaredViewSet.read_rows = READ_ROWS
# A module marked ``once`` (packaging, the docs site, the command-line tools) answers the same
# whatever the database and read path: it runs in the first run of scripts/run_tests.py only.
LATER_RUN = READ_ROWS != "auto" or os.environ.get("DJFAPI_TEST_DATABASE") == "postgres"


def pytest_collection_modifyitems(items):
    """Committed data by default (``django_db(transaction=True)``): the request's threadpool hop
    runs on its own connection and must see it. A test with its own ``django_db`` marker keeps
    it (``@pytest.mark.django_db`` runs inside a transaction, as users' tests do); Django
    TestCases manage their own."""
    for item in items:
        if LATER_RUN and item.get_closest_marker("once") is not None:
            item.add_marker(pytest.mark.skip(reason="marked once: ran in the first run"))
        is_test_case = item.cls is not None and issubclass(item.cls, unittest.TestCase)
        if item.get_closest_marker("django_db") is None and not is_test_case:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def app():
    """The plain test app; built once, as building FastAPI routes is the slow part of a test."""
    return create_app()


@pytest.fixture(scope="session")
def secured_app():
    """The test app as the design page shows it: JWT, scopes, tenancy."""
    return secured.create_app()


@pytest.fixture(scope="session")
def library_app():
    """Authors → books → reviews, each level with scopes of its own and an `own` selector."""
    return library.create_app()


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def query_log(monkeypatch):
    """Every SQL statement run, in any thread, as (thread ident, sql)."""
    log: list[tuple[int, str]] = []
    original = backend_utils.CursorWrapper._execute_with_wrappers

    def recording(self, sql, *args, **kwargs):
        log.append((threading.get_ident(), sql))
        return original(self, sql, *args, **kwargs)

    monkeypatch.setattr(backend_utils.CursorWrapper, "_execute_with_wrappers", recording)
    return log
