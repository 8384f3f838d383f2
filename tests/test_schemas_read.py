"""Reading: nested objects, reverse relations and many-to-many as lists, properties and
methods by name, and lists that cost the same queries at any length."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas
from djfapi.schemas import query_plan
from tests.testapp import models
from tests.testapp.factories import (
    CompanyFactory,
    CountryFactory,
    DepartmentFactory,
    TagFactory,
    TeamFactory,
)


class CountryRef(BaseModel):
    code: str
    name: str


class TagOut(BaseModel):
    label: str


class TeamOut(BaseModel):
    id: int
    name: str


class DepartmentOut(BaseModel):
    id: int
    name: str
    teams: list[TeamOut]


class CompanyRef(BaseModel):
    id: int
    name: str
    country: CountryRef | None


class CompanyDetail(BaseModel):
    id: int
    name: str
    display_name: str  # a property
    department_count: int  # a method
    country: CountryRef | None  # a ForeignKey, nested
    departments: list[DepartmentOut]  # a reverse ForeignKey, two levels deep
    tags: list[TagOut]  # a many-to-many


class DepartmentWithCompany(BaseModel):
    id: int
    name: str
    company: CompanyRef  # ForeignKey of a ForeignKey


class CompanyViewSet(ReadOnlyModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyDetail)
    pagination_class = None


class DepartmentViewSet(ModelViewSet):
    model = models.Department
    schemas = Schemas(get=DepartmentWithCompany)


@pytest.fixture
def client():
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    router.register("all-departments", DepartmentViewSet)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def make_companies(count: int) -> None:
    country = CountryFactory(code="DE", name="Germany")
    for _ in range(count):
        company = CompanyFactory(country=country)
        company.tags.add(TagFactory(), TagFactory())
        for department in DepartmentFactory.create_batch(2, company=company):
            TeamFactory.create_batch(2, department=department)


def test_nested_objects_lists_properties_and_methods(client):
    country = CountryFactory(code="FR", name="France")
    company = CompanyFactory(name="Acme", tenant_id="t1", country=country)
    department = DepartmentFactory(company=company, name="Sales")
    team = TeamFactory(department=department, name="North")
    company.tags.add(TagFactory(label="b2b"))
    assert client.get(f"/companies/{company.id}").json() == {
        "id": company.id,
        "name": "Acme",
        "display_name": "Acme (t1)",
        "department_count": 1,
        "country": {"code": "FR", "name": "France"},
        "departments": [{"id": department.id, "name": "Sales",
                         "teams": [{"id": team.id, "name": "North"}]}],
        "tags": [{"label": "b2b"}],
    }


def test_a_null_foreign_key_reads_as_null(client):
    company = CompanyFactory(country=None)
    assert client.get(f"/companies/{company.id}").json()["country"] is None


def test_the_query_plan_is_worked_out_from_the_schema():
    plan = query_plan(models.Company, CompanyDetail)
    assert plan.select_related == ("country",)
    assert plan.prefetch_related == ("departments", "departments__teams", "tags")
    assert query_plan(models.Department, DepartmentWithCompany).select_related == (
        "company", "company__country",
    )


@pytest.mark.parametrize("path", ["/companies", "/all-departments"])
def test_a_list_of_5_and_a_list_of_50_cost_the_same_queries(client, query_log, path):
    make_companies(5)
    query_log.clear()
    params = {"limit": 100} if path == "/all-departments" else {}  # /companies is not paginated
    assert len(client.get(path, params=params).json()["items"]) in (5, 10)
    five = len(query_log)

    make_companies(45)
    query_log.clear()
    assert len(client.get(path, params=params).json()["items"]) in (50, 100)
    fifty = len(query_log)
    assert five == fifty
    assert fifty <= 6  # companies, country joined; departments, teams, tags prefetched; count


def test_retrieve_costs_the_same_queries_however_many_children(client, query_log):
    make_companies(1)
    company = models.Company.objects.get()
    query_log.clear()
    client.get(f"/companies/{company.id}")
    few = len(query_log)
    for department in DepartmentFactory.create_batch(10, company=company):
        TeamFactory.create_batch(3, department=department)
    query_log.clear()
    body = client.get(f"/companies/{company.id}").json()
    assert len(body["departments"]) == 12
    assert len(query_log) == few


def test_parent_lookup_does_not_prefetch_the_parents_response(client, query_log):
    make_companies(1)
    company = models.Company.objects.get()
    query_log.clear()
    client.get(f"/companies/{company.id}/departments")
    statements = [sql for _, sql in query_log]
    assert not any('"testapp_tag"' in sql for sql in statements)


def test_the_same_with_djangos_query_capture():
    """Django's own CaptureQueriesContext sees the request's queries when djfapi.testing's
    Client runs them on the test's connection."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from djfapi.testing import Client

    router = Router()
    router.register("companies", CompanyViewSet)
    app = FastAPI()
    app.include_router(router)
    client = Client(app)
    make_companies(5)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get("/companies").json()["items"]) == 5
    make_companies(45)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get("/companies").json()["items"]) == 50
    assert len(five) == len(fifty) == 4  # companies (country joined), departments, teams, tags
