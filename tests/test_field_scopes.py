"""Field(..., scopes=[...]): shown only to callers holding one of the scopes, and writing it
without one is a 403 that writes nothing."""

import pytest

from djfapi.testing import Client
from tests.testapp import models
from tests.testapp.factories import CompanyFactory

READ = ["business.companies.read.any"]
AUDIT = "business.companies.audit.any"


@pytest.fixture
def client(secured_app):
    return Client(secured_app)


def test_a_scoped_field_is_left_out_without_the_scope(client):
    company = CompanyFactory(tenant_id="t1", created_by="alice")
    client.authenticate(READ, tenant="t1")
    assert "created_by" not in client.get(f"/api/companies/{company.id}").json()
    assert "created_by" not in client.get("/api/companies").json()["items"][0]
    client.authenticate([*READ, AUDIT], tenant="t1")
    assert client.get(f"/api/companies/{company.id}").json()["created_by"] == "alice"
    assert client.get("/api/companies").json()["items"][0]["created_by"] == "alice"


def test_writing_a_scoped_field_without_the_scope_is_403(client):
    client.authenticate(["business.companies.create"], tenant="t1")
    response = client.post("/api/companies", json={"name": "Acme", "created_by": "mallory"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Setting created_by needs a scope you do not hold."}
    assert not models.Company.objects.exists()
    assert client.post("/api/companies", json={"name": "Acme"}).status_code == 201  # not sent: fine
    client.authenticate(["business.companies.create", AUDIT], tenant="t1")
    assert client.post("/api/companies", json={"name": "Beta", "created_by": "auditor"}).status_code == 201
    assert models.Company.objects.get(name="Beta").created_by == "auditor"


def test_openapi_shows_the_scopes_of_a_field(secured_app):
    schema = secured_app.openapi()["components"]["schemas"]["CompanyOut"]
    assert schema["properties"]["created_by"]["x-scopes"] == [AUDIT]
