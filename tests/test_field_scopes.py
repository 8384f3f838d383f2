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


def test_a_put_without_a_fields_scope_leaves_it_as_stored():
    """PUT writes every field of the update schema; one the caller may not set keeps its value
    instead of taking its default."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    from djfapi import Router, Schemas
    from djfapi.schemas import Field
    from tests.testapp import secured

    class AuditedUpdate(BaseModel):
        name: str
        created_by: str = Field("", scopes=[AUDIT])

    class AuditedCompanies(secured.CompanyViewSet):
        schemas = Schemas(get=secured.CompanyOut, create=secured.CompanyIn, update=AuditedUpdate)

    router = Router()
    router.register("companies", AuditedCompanies)
    app = FastAPI()
    app.include_router(router)
    company = CompanyFactory(tenant_id="t1", created_by="alice")
    client = Client(app).authenticate([*READ, "business.companies.update.any"], tenant="t1")
    assert client.put(f"/companies/{company.id}", json={"name": "Renamed"}).status_code == 200
    company.refresh_from_db()
    assert (company.name, company.created_by) == ("Renamed", "alice")
    client.authenticate([*READ, "business.companies.update.any", AUDIT], tenant="t1")
    assert client.put(f"/companies/{company.id}", json={"name": "Renamed"}).status_code == 200
    company.refresh_from_db()
    assert company.created_by == ""  # the auditor's PUT writes every field, defaults included
