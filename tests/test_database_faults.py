"""A database that cannot be reached is a 503 with Retry-After and a JSON detail, never a 500:
here a PostgreSQL server that is not running (nothing listens on its port), as after a crash.
The viewset connects to it with Django's own PostgreSQL backend, inside the request's hop."""

import socket

import pytest
from django.db import connections
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import djfapi
from djfapi import ReadOnlyModelViewSet, Router, Schemas
from djfapi.exceptions import RETRY_AFTER
from tests.testapp import models

pytest.importorskip("psycopg")


class CompanyOut(BaseModel):
    id: int
    name: str


class StoppedServerViewSet(ReadOnlyModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut)
    tenant_field = None

    def get_queryset(self):
        stopped_server().ensure_connection()  # what the first query of a request would do
        return super().get_queryset()


def stopped_server():
    """Django's PostgreSQL backend for a server whose port nothing listens on."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connecting is refused at once
    settings = {**connections["default"].settings_dict, "NAME": "gone", "USER": "postgres",
                "HOST": "127.0.0.1", "PORT": str(port), "OPTIONS": {"connect_timeout": 2}}
    return DatabaseWrapper(settings, alias="stopped")


@pytest.mark.parametrize("installed", [False, True])
def test_a_stopped_database_is_503_with_retry_after(installed):
    router = Router()
    router.register("companies", StoppedServerViewSet)
    app = FastAPI()
    if installed:
        djfapi.install(app)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/companies", "/companies/1"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == str(RETRY_AFTER)
            assert response.json() == {"detail": "The database is unavailable; try again shortly."}
