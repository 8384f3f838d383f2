"""Tenancy by default: every queryset (parents' included) is limited to the caller's tenant,
create sets it, ids in bodies may only point at the caller's rows."""

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas
from djfapi.permissions import ANY_VALID_TOKEN, Scopes
from djfapi.permissions.jwt import INVALID_TOKEN
from djfapi.testing import Client
from tests.testapp import models, secured
from tests.testapp.factories import CompanyFactory, CountryFactory, DepartmentFactory, TagFactory, TeamFactory


@pytest.fixture
def client(secured_app):
    return Client(secured_app)


def test_create_sets_the_callers_tenant(client):
    client.authenticate(secured.ALL_SCOPES, tenant="tenant-b")
    response = client.post("/api/companies", json={"name": "Beta"})
    assert response.status_code == 201
    assert models.Company.objects.get().tenant_id == "tenant-b"
    tag = client.post("/api/tags", json={"id": 999, "label": "x"})
    assert tag.status_code == 201
    assert models.Tag.objects.get().tenant_id == "tenant-b"
    assert tag.json()["id"] != 999


def test_a_body_cannot_set_the_tenant():
    class TagIn(BaseModel):
        label: str
        tenant_id: str

    class TagViewSet(secured.TagViewSet):
        schemas = Schemas(get=secured.TagOut, create=TagIn)

    router = Router()
    router.register("tags", TagViewSet)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    assert client.post("/tags", json={"label": "x", "tenant_id": "tenant-b"}).status_code == 201
    assert models.Tag.objects.get().tenant_id == "tenant-a"


class CompanyItem(BaseModel):
    id: int | None = None
    name: str


class CountryIn(BaseModel):
    code: str
    name: str
    company_set: list[CompanyItem] = []  # Company keeps the tenant; Country does not


class CountryOut(BaseModel):
    code: str
    name: str


class CountryViewSet(ModelViewSet):
    model = models.Country
    schemas = Schemas(get=CountryOut, create=CountryIn, update=CountryIn)
    security = secured.token
    scopes = Scopes(get=ANY_VALID_TOKEN, post=ANY_VALID_TOKEN, put=ANY_VALID_TOKEN)


def test_nested_writes_set_the_tenant_on_new_rows():
    router = Router()
    router.register("countries", CountryViewSet)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate([], tenant="tenant-b")
    germany = {"code": "DE", "name": "Germany"}
    created = client.post("/countries", json={**germany, "company_set": [{"name": "Acme"}]})
    assert created.status_code == 201, created.text
    acme = models.Company.objects.get()
    assert (acme.name, acme.country_id, acme.tenant_id) == ("Acme", "DE", "tenant-b")
    added = {**germany, "company_set": [{"id": acme.id, "name": "Acme"}, {"name": "Beta"}]}
    assert client.put("/countries/DE", json=added).status_code == 200
    assert dict(models.Company.objects.values_list("name", "tenant_id")) == {
        "Acme": "tenant-b", "Beta": "tenant-b"}


def test_a_nested_list_below_a_parent_of_no_tenant_leaves_other_tenants_rows_alone():
    CountryFactory(code="DE")
    theirs = CompanyFactory(tenant_id="tenant-b", name="Theirs", country_id="DE")
    router = Router()
    router.register("countries", CountryViewSet)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate([], tenant="tenant-c")
    germany = {"code": "DE", "name": "Germany"}
    renaming = {**germany, "company_set": [{"id": theirs.id, "name": "Mine now"}]}
    assert client.put("/countries/DE", json=renaming).status_code == 422  # not in the caller's list
    assert client.put("/countries/DE", json={**germany, "company_set": []}).status_code == 200
    assert list(models.Company.objects.values_list("name", "tenant_id")) == [("Theirs", "tenant-b")]


def test_a_nested_route_refuses_a_foreign_key_to_another_tenants_row(secured_app):
    # Employees have no tenant field; their company does: reached through the ForeignKey.
    employee_viewset = secured.EmployeeViewSet
    company = CompanyFactory(tenant_id="tenant-a")
    foreign_department = DepartmentFactory(company__tenant_id="tenant-b")
    own_department = DepartmentFactory(company=company)
    client = Client(secured_app).authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    path = f"/api/companies/{company.id}/employees"
    refused = client.post(path, json={"user_id": "u1", "department_id": foreign_department.id})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "department_id"]
    accepted = client.post(path, json={"user_id": "u1", "department_id": own_department.id})
    assert accepted.status_code == 201
    assert employee_viewset.model.objects.get().department_id == own_department.id


def test_many_to_many_ids_of_another_tenant_are_422(client):
    mine, theirs = TagFactory(tenant_id="tenant-a"), TagFactory(tenant_id="tenant-b")
    client.authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    response = client.post("/api/companies", json={"name": "Acme", "tags": [mine.id, theirs.id]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "tags"]
    assert not models.Company.objects.exists()


def test_a_top_level_viewset_of_a_model_without_tenant_field_filters_through_its_foreign_key():
    class AllDepartments(ReadOnlyModelViewSet):
        model = models.Department
        schemas = Schemas(get=secured.DepartmentOut)
        security = secured.token
        scopes = Scopes(get=["business.companies.read.any"])

    router = Router()
    router.register("departments", AllDepartments)
    app = FastAPI()
    app.include_router(router)
    mine = DepartmentFactory(company__tenant_id="tenant-a")
    theirs = DepartmentFactory(company__tenant_id="tenant-b")
    client = Client(app).authenticate(["business.companies.read.any"], tenant="tenant-a")
    assert [d["id"] for d in client.get("/departments").json()["items"]] == [mine.id]
    assert client.get(f"/departments/{theirs.id}").status_code == 404


def test_tenant_field_none_opts_out():
    class SharedTags(ModelViewSet):
        model = models.Tag
        schemas = Schemas(get=secured.TagOut)
        security = secured.token
        tenant_field = None

    router = Router()
    router.register("tags", SharedTags)
    app = FastAPI()
    app.include_router(router)
    TagFactory(tenant_id="tenant-a")
    TagFactory(tenant_id="tenant-b")
    client = Client(app).authenticate([], tenant="tenant-a")
    assert client.get("/tags").json()["total"] == 2


def test_a_token_without_tenant_is_refused_where_tenancy_applies(client):
    company = CompanyFactory(tenant_id="tenant-a")
    client.authenticate(secured.ALL_SCOPES, tenant=None)
    for method, path in (("GET", "/api/companies"), ("POST", "/api/companies"),
                         ("GET", f"/api/companies/{company.id}/departments")):
        response = client.request(method, path, json={"name": "X"} if method == "POST" else None)
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": INVALID_TOKEN}
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert list(models.Company.objects.values_list("name", flat=True)) == [company.name]


def test_three_levels_deep_another_tenant_gets_404(client):
    team = TeamFactory(department__company__tenant_id="tenant-a")
    department = team.department
    base = f"/api/companies/{department.company_id}/departments/{department.id}/teams"
    client.authenticate(secured.ALL_SCOPES, tenant="tenant-b")
    assert client.get(f"{base}/{team.id}").status_code == 404
    assert client.post(base, json={"name": "intruder"}).status_code == 404
    assert client.patch(f"{base}/{team.id}", json={"name": "intruder"}).status_code == 404
    team.refresh_from_db()
    assert team.name != "intruder"
    assert models.Team.objects.count() == 1


def test_a_tenant_field_given_as_a_path_limits_the_ids_a_body_names():
    """A viewset whose rows reach the tenant through a path (``source__tenant_id``) limits a
    body's ids by the field at the end of it: another tenant's company is not a target."""
    class TransferIn(BaseModel):
        source_id: int
        target_id: int
        amount: int

    class TransferOut(TransferIn):
        id: int

    class TransferViewSet(ModelViewSet):
        model = models.Transfer
        schemas = Schemas(get=TransferOut, create=TransferIn)
        security = secured.token
        tenant_field = "source__tenant_id"

    router = Router()
    router.register("transfers", TransferViewSet)
    app = FastAPI()
    app.include_router(router)
    mine, other = CompanyFactory(tenant_id="tenant-a"), CompanyFactory(tenant_id="tenant-b")
    client = Client(app).authenticate(tenant="tenant-a")
    refused = client.post("/transfers", json={"source_id": mine.id, "target_id": other.id, "amount": 5})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "target_id"]
    assert not models.Transfer.objects.exists()
    allowed = client.post("/transfers", json={"source_id": mine.id, "target_id": mine.id, "amount": 5})
    assert allowed.status_code == 201, allowed.text
