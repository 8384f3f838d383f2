"""djfapi.tenancy: where a model keeps its tenant, limiting, stamping and references; and a
model two ForeignKeys from its tenant served over HTTP (tests/test_tenancy.py has the rest)."""

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.permissions import Scopes
from djfapi.permissions.access import Access, AccessToken
from djfapi.tenancy import limit_to_tenant, reference_queryset, stamp_tenant, tenant_lookup, tenant_path
from djfapi.testing import Client
from tests.testapp import models, secured
from tests.testapp.factories import CompanyFactory, DepartmentFactory, TagFactory, TeamFactory

TENANT_A = Access(token=AccessToken(sub="u1", ten="tenant-a"))


def test_tenant_path():
    assert tenant_path(models.Tag, "tenant_id") == "tenant_id"
    assert tenant_path(models.Team, "tenant_id") == "department__company__tenant_id"
    assert tenant_path(models.Employee, "tenant_id") == "company__tenant_id"  # the shorter path
    assert tenant_path(models.Department, "company__tenant_id") == "company__tenant_id"  # as declared
    assert tenant_path(models.Tag, None) is None
    assert tenant_path(models.Country, "tenant_id") is None
    assert tenant_lookup(models.Comment, "tenant_id") == "review__book__author__tenant_id"
    assert tenant_lookup(models.Comment, "tenant_id", depth=2) is None


def test_limit_to_tenant_keeps_the_callers_rows():
    mine = TeamFactory(department__company__tenant_id="tenant-a")
    TeamFactory(department__company__tenant_id="tenant-b")
    path = tenant_path(models.Team, "tenant_id")
    assert list(limit_to_tenant(models.Team.objects.all(), path, TENANT_A)) == [mine]
    assert limit_to_tenant(models.Team.objects.all(), path, None).count() == 2  # no caller: no tenancy
    assert limit_to_tenant(models.Team.objects.all(), None, TENANT_A).count() == 2  # tenancy does not apply


def test_stamp_tenant_sets_the_callers_tenant_where_the_model_keeps_it():
    tag = models.Tag(label="x", tenant_id="tenant-b")
    stamp_tenant(tag, "tenant_id", TENANT_A)
    assert tag.tenant_id == "tenant-a"
    department = models.Department(name="x")
    stamp_tenant(department, "tenant_id", TENANT_A)  # its company holds the tenant
    assert department.company_id is None
    untouched = models.Tag(label="y", tenant_id="tenant-b")
    stamp_tenant(untouched, None, TENANT_A)
    stamp_tenant(untouched, "tenant_id", None)
    assert untouched.tenant_id == "tenant-b"


def test_reference_queryset_holds_the_callers_rows():
    mine = DepartmentFactory(company__tenant_id="tenant-a")
    DepartmentFactory(company__tenant_id="tenant-b")
    assert list(reference_queryset(models.Department, "tenant_id", TENANT_A)) == [mine]
    assert reference_queryset(models.Department, None, TENANT_A).count() == 2
    assert reference_queryset(models.Country, "tenant_id", TENANT_A).model is models.Country


class TeamIn(BaseModel):
    name: str
    department_id: int


class TeamOut(BaseModel):
    id: int
    name: str
    department_id: int


@pytest.fixture
def teams():
    """Teams at the top level: two ForeignKeys from the company that keeps the tenant."""
    class Teams(ModelViewSet):
        model = models.Team
        schemas = Schemas(get=TeamOut, create=TeamIn, update=TeamIn)
        security = secured.token
        scopes = Scopes(get=secured.READ, post=["business.companies.create"], patch=secured.UPDATE)

    router = Router()
    router.register("teams", Teams)
    app = FastAPI()
    app.include_router(router)
    return Client(app).authenticate(secured.ALL_SCOPES, tenant="tenant-a")


def test_two_foreign_keys_from_the_tenant_the_caller_sees_only_its_rows(teams):
    mine = TeamFactory(department__company__tenant_id="tenant-a")
    theirs = TeamFactory(department__company__tenant_id="tenant-b")
    assert [team["id"] for team in teams.get("/teams").json()["items"]] == [mine.id]
    assert teams.get(f"/teams/{theirs.id}").status_code == 404
    assert teams.patch(f"/teams/{theirs.id}", json={"name": "intruder"}).status_code == 404


def test_two_foreign_keys_from_the_tenant_a_body_cannot_point_at_another_tenants_row(teams):
    team = TeamFactory(department__company__tenant_id="tenant-a")
    theirs = DepartmentFactory(company__tenant_id="tenant-b")
    for response in (teams.post("/teams", json={"name": "x", "department_id": theirs.id}),
                     teams.patch(f"/teams/{team.id}", json={"department_id": theirs.id})):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "department_id"]
    team.refresh_from_db()
    assert team.department.company.tenant_id == "tenant-a"
    assert models.Team.objects.count() == 1
    ours = DepartmentFactory(company=CompanyFactory(tenant_id="tenant-a"))
    moved = teams.patch(f"/teams/{team.id}", json={"department_id": ours.id})
    assert moved.status_code == 200, moved.text
    assert moved.json()["department_id"] == ours.id


def test_an_update_cannot_point_a_tenants_row_at_another_tenants_row():
    tag = TagFactory(tenant_id="tenant-a")
    company = CompanyFactory(tenant_id="tenant-a")
    company.tags.add(tag)
    theirs = TagFactory(tenant_id="tenant-b")

    class CompanyTags(BaseModel):
        name: str
        tags: list[int]

    class Companies(secured.CompanyViewSet):
        schemas = Schemas(get=secured.CompanyOut, update=CompanyTags)

    router = Router()
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    response = client.put(f"/companies/{company.id}", json={"name": company.name, "tags": [theirs.id]})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "tags"]
    assert list(company.tags.all()) == [tag]
