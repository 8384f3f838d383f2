"""Writing: ForeignKeys by id (checked against what the caller may see), nested writes in one
transaction, PUT/PATCH of nested lists, model validation as 422/409, server-owned fields."""

import datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from tests.testapp import models
from tests.testapp.factories import (
    CompanyFactory,
    CostcenterFactory,
    CountryFactory,
    DepartmentFactory,
    TagFactory,
    TeamFactory,
)


class TeamIn(BaseModel):
    id: int | None = None
    name: str


class DepartmentIn(BaseModel):
    id: int | None = None
    name: str
    teams: list[TeamIn] = []


class CompanyIn(BaseModel):
    name: str
    country_id: str | None = None
    tags: list[int] = []  # a many-to-many, written as ids
    departments: list[DepartmentIn] = []
    created_at: datetime.datetime | None = None  # auto_now_add: server-owned, ignored


class CompanyUpdate(BaseModel):
    name: str
    country_id: str | None = None
    departments: list[DepartmentIn] = []


class TeamOut(BaseModel):
    id: int
    name: str


class DepartmentOut(BaseModel):
    id: int
    name: str
    teams: list[TeamOut]


class CompanyOut(BaseModel):
    id: int
    name: str
    country_id: str | None
    tags: list[int]
    departments: list[DepartmentOut]
    created_at: datetime.datetime


class CostcenterIn(BaseModel):
    code: str  # no max_length here: the model's validation answers
    kind: str = "opex"
    budget: Decimal = Decimal(0)
    starts_on: datetime.date | None = None
    meta: dict = {}


class CostcenterOut(CostcenterIn):
    id: int
    company_id: int
    updated_at: datetime.datetime


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyUpdate)

    def get_reference_queryset(self, model):
        queryset = super().get_reference_queryset(model)
        if model is models.Tag:
            return queryset.filter(tenant_id="tenant-a")
        if model is models.Country:
            return queryset.exclude(code="XX")
        return queryset

    def perform_create(self, instance):
        instance.tenant_id = "tenant-a"
        super().perform_create(instance)


class CostcenterViewSet(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut, create=CostcenterIn, update=CostcenterIn)


@pytest.fixture
def client():
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("costcenters", CostcenterViewSet, parent=CompanyViewSet)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def tree(company):
    return [(d.name, [t.name for t in d.teams.all()]) for d in company.departments.all()]


# -- references ----------------------------------------------------------------------------------

def test_foreign_key_is_written_by_id(client):
    CountryFactory(code="DE")
    response = client.post("/companies", json={"name": "Acme", "country_id": "DE"})
    assert response.status_code == 201
    assert models.Company.objects.get().country_id == "DE"


@pytest.mark.parametrize("code", ["ZZ", "XX"])  # ZZ does not exist, XX is not visible
def test_unknown_or_invisible_foreign_key_is_422_naming_the_field(client, code):
    CountryFactory(code="XX", name="Hidden")
    response = client.post("/companies", json={"name": "Acme", "country_id": code})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "country_id"], "msg": f"No country with id {code}.", "type": "reference"}
    ]
    assert not models.Company.objects.exists()


def test_many_to_many_is_written_by_ids_checked_for_visibility(client):
    mine, other = TagFactory(tenant_id="tenant-a"), TagFactory(tenant_id="tenant-b")
    ok = client.post("/companies", json={"name": "Acme", "tags": [mine.id]})
    assert ok.status_code == 201
    assert ok.json()["tags"] == [mine.id]
    refused = client.post("/companies", json={"name": "Beta", "tags": [mine.id, other.id]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "tags"]
    assert str(other.id) in refused.json()["detail"][0]["msg"]
    assert list(models.Company.objects.values_list("name", flat=True)) == ["Acme"]


# -- nested writes ------------------------------------------------------------------------------

def test_create_with_nested_objects_in_one_request(client):
    body = {"name": "Acme", "departments": [
        {"name": "Sales", "teams": [{"name": "North"}, {"name": "South"}]},
        {"name": "Ops"},
    ]}
    response = client.post("/companies", json=body)
    assert response.status_code == 201
    company = models.Company.objects.get()
    assert tree(company) == [("Sales", ["North", "South"]), ("Ops", [])]
    assert [d["name"] for d in response.json()["departments"]] == ["Sales", "Ops"]
    assert [t["name"] for t in response.json()["departments"][0]["teams"]] == ["North", "South"]


def test_a_failing_nested_object_writes_nothing(client):
    body = {"name": "Acme", "departments": [{"name": "Sales"}, {"name": "x" * 101}]}
    response = client.post("/companies", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "departments", 1, "name"]
    assert not models.Company.objects.exists()
    assert not models.Department.objects.exists()


def test_put_synchronises_nested_lists_by_id(client):
    company = CompanyFactory(name="Acme")
    keep, drop = DepartmentFactory(company=company, name="Keep"), DepartmentFactory(company=company)
    TeamFactory(department=keep, name="Old team")
    body = {"name": "Acme", "departments": [
        {"id": keep.id, "name": "Kept", "teams": [{"name": "New team"}]},
        {"name": "Created"},
    ]}
    response = client.put(f"/companies/{company.id}", json=body)
    assert response.status_code == 200
    assert tree(company) == [("Kept", ["New team"]), ("Created", [])]
    assert not models.Department.objects.filter(pk=drop.pk).exists()
    assert [d["name"] for d in response.json()["departments"]] == ["Kept", "Created"]


def test_put_cannot_take_over_another_parents_child(client):
    company = CompanyFactory()
    foreign = DepartmentFactory(name="Theirs")
    response = client.put(f"/companies/{company.id}",
                          json={"name": company.name, "departments": [{"id": foreign.id, "name": "Mine"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "departments", 0, "id"]
    foreign.refresh_from_db()
    assert (foreign.name, foreign.company_id) == ("Theirs", foreign.company_id)


def test_patch_leaves_nested_lists_not_sent_untouched(client):
    company = CompanyFactory(name="Acme")
    DepartmentFactory(company=company, name="Sales")
    response = client.patch(f"/companies/{company.id}", json={"name": "Acme 2"})
    assert response.status_code == 200
    assert tree(company) == [("Sales", [])]
    replaced = client.patch(f"/companies/{company.id}", json={"departments": [{"name": "Ops"}]})
    assert replaced.status_code == 200
    assert tree(company) == [("Ops", [])]
    company.refresh_from_db()
    assert company.name == "Acme 2"


# -- model validation ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "status", "loc", "type_"),
    [
        ({"code": "X" * 11}, 422, ["body", "code"], "max_length"),
        ({"code": "C1", "kind": "bogus"}, 422, ["body", "kind"], "invalid_choice"),
        ({"code": "void"}, 422, ["body"], "validation_error"),
        ({"code": "C1", "budget": "-1"}, 422, ["body"], "validation_error"),
        ({"code": "C1", "budget": "12345678901.00"}, 422, ["body", "budget"], "max_digits"),
        ({"code": "TAKEN"}, 409, ["body", "code"], "unique"),  # (company, code): the parent is no body's
    ],
)
def test_model_validation_answers_with_the_location(client, body, status, loc, type_):
    company = CompanyFactory()
    CostcenterFactory(company=company, code="TAKEN")
    response = client.post(f"/companies/{company.id}/costcenters", json=body)
    assert response.status_code == status, response.text
    error = response.json()["detail"][0]
    assert (error["loc"], error["type"]) == (loc, type_)
    if status == 409:  # named by what the client sent, not by internal fields
        assert error["msg"] == "A costcenter with this code already exists."
    assert models.Costcenter.objects.count() == 1


def test_unique_field_is_409_naming_it(client):
    CompanyFactory(name="Acme")
    response = client.post("/companies", json={"name": "Acme"})
    assert response.status_code == 409
    assert response.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "A company with this name already exists.", "type": "unique"}
    ]


def test_the_409_message_says_an_before_a_vowel(client, monkeypatch):
    from tests.testapp import models

    monkeypatch.setattr(models.Company._meta, "verbose_name", "organisation")
    CompanyFactory(name="Acme")
    response = client.post("/companies", json={"name": "Acme"})
    assert response.json()["detail"][0]["msg"] == "An organisation with this name already exists."


def test_valid_values_of_every_kind_are_stored(client):
    company = CompanyFactory()
    body = {"code": "C1", "kind": "capex", "budget": "1234.50", "starts_on": "2026-01-31",
            "meta": {"owner": "finance"}}
    response = client.post(f"/companies/{company.id}/costcenters", json=body)
    assert response.status_code == 201
    costcenter = models.Costcenter.objects.get()
    assert (costcenter.kind, costcenter.budget, costcenter.starts_on, costcenter.meta) == (
        "capex", Decimal("1234.50"), datetime.date(2026, 1, 31), {"owner": "finance"})
    assert response.json()["budget"] == "1234.50"


# -- server-owned fields ------------------------------------------------------------------------

def test_auto_now_and_primary_key_are_never_taken_from_a_body(client):
    response = client.post("/companies", json={"name": "Acme", "created_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 201
    assert models.Company.objects.get().created_at.year > 2000
    company = models.Company.objects.get()
    department = DepartmentFactory(company=company)
    other = CompanyFactory()
    put = client.put(f"/companies/{other.id}",
                     json={"name": other.name, "departments": [{"name": "New", "id": None}]})
    assert put.status_code == 200
    department.refresh_from_db()
    assert department.company_id == company.id


def test_a_nested_list_may_replace_a_row_with_a_new_one_holding_its_unique_value():
    """The rows left out are deleted before the new ones are saved, so a new costcenter may
    take the code of one it replaces (UniqueConstraint company + code); it was a 409."""

    class CostcenterIn(BaseModel):
        id: int | None = None
        code: str

    class WithCostcenters(BaseModel):
        name: str
        costcenters: list[CostcenterIn]

    class Out(BaseModel):
        id: int
        costcenters: list[CostcenterIn]

    class Companies(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=Out, update=WithCostcenters)
        tenant_field = None

    router = Router()
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    company = CompanyFactory()
    old = CostcenterFactory(company=company, code="CC1")
    with TestClient(app) as client:
        response = client.put(f"/companies/{company.pk}", json={"name": company.name,
                                                                 "costcenters": [{"code": "CC1"}]})
    assert response.status_code == 200, response.text
    [new] = models.Costcenter.objects.filter(company=company)
    assert new.code == "CC1" and new.pk != old.pk
    assert response.json()["costcenters"] == [{"id": new.pk, "code": "CC1"}]


def test_put_keeps_what_scopes_hide_on_existing_nested_rows():
    """A caller without a field's scope sends back what a GET showed them: the nested row's
    hidden field keeps its stored value (it was overwritten with the default)."""
    from djfapi.permissions import JWTBearer
    from djfapi.schemas import Field
    from djfapi.testing import Client

    class CostcenterIn(BaseModel):
        id: int | None = None
        code: str
        budget: Decimal = Field(Decimal(0), scopes=["audit"])

    class WithCostcenters(BaseModel):
        name: str
        costcenters: list[CostcenterIn]

    class Out(BaseModel):
        id: int
        costcenters: list[CostcenterIn]

    class Companies(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=Out, update=WithCostcenters)
        security = JWTBearer()

    router = Router()
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    company = CompanyFactory(tenant_id="t")
    kept = CostcenterFactory(company=company, code="CC1", budget=Decimal("250.00"))
    clerk = Client(app).authenticate([], tenant="t")
    shown = clerk.get(f"/companies/{company.pk}").json()
    assert shown["costcenters"] == [{"id": kept.pk, "code": "CC1"}]  # no budget
    response = clerk.put(f"/companies/{company.pk}", json={"name": company.name, "costcenters": [
        {**shown["costcenters"][0], "code": "CC9"}, {"code": "NEW"}]})
    assert response.status_code == 200, response.text
    kept.refresh_from_db()
    assert (kept.code, kept.budget) == ("CC9", Decimal("250.00"))
    assert models.Costcenter.objects.get(code="NEW").budget == Decimal(0)
    refused = clerk.put(f"/companies/{company.pk}", json={"name": company.name, "costcenters": [
        {"id": kept.pk, "code": "CC9", "budget": "1"}]})
    assert refused.status_code == 403
