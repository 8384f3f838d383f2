"""After a write the response is the row as stored: columns whose stored value may differ from
what was written are read back, the others are not (a create of plain columns is one INSERT);
``get_reread_fields()`` reads every column back for a row a trigger changes."""

import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import models as django_models
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.schemas.saving import stored_as_written
from tests.testapp import models


class CompanyIn(BaseModel):
    name: str
    archived: bool = False


class CompanyOut(CompanyIn):
    id: int
    created_by: str
    created_at: datetime.datetime


class Companies(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)
    tenant_field = None

    def perform_create(self, instance):
        instance.tenant_id = "t"
        super().perform_create(instance)


class Stamped(Companies):
    """A stand-in for a database trigger: the row is changed behind the instance's back."""

    def perform_create(self, instance):
        super().perform_create(instance)
        models.Company.objects.filter(pk=instance.pk).update(created_by="trigger")


class StampedAndReread(Stamped):
    def get_reread_fields(self, instance):
        return [field.attname for field in instance._meta.concrete_fields if not field.is_relation]


def client_of(viewset: type, prefix: str = "companies") -> TestClient:
    router = Router()
    router.register(prefix, viewset)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_a_create_of_plain_columns_reads_nothing_back(query_log):
    with client_of(Companies) as client:
        response = client.post("/companies", json={"name": "Acme"})
    assert response.status_code == 201
    statements = [sql.split()[0].upper() for _, sql in query_log if not sql.upper().startswith(
        ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert statements == ["SELECT", "INSERT"]  # the unique name checked, the row inserted
    assert response.json()["created_at"].endswith("Z")
    with client_of(Companies) as client:
        assert client.get(f"/companies/{response.json()['id']}").content == response.content


class CostcenterIn(BaseModel):
    code: str
    budget: Decimal


class CostcenterOut(CostcenterIn):
    id: int


class Costcenters(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut, create=CostcenterIn)
    tenant_field = None

    def perform_create(self, instance):
        instance.company = models.Company.objects.create(name="Parent", tenant_id="t")
        super().perform_create(instance)


def test_a_decimal_is_read_back_as_the_column_stores_it(query_log):
    with client_of(Costcenters, "costcenters") as client:
        response = client.post("/costcenters", json={"code": "A", "budget": "10.5"})
    assert response.status_code == 201, response.text
    assert response.json()["budget"] == "10.50"
    assert any(sql.upper().startswith("SELECT") and "budget" in sql for _, sql in query_log)


def test_a_trigger_needs_get_reread_fields():
    with client_of(Stamped) as client:
        assert client.post("/companies", json={"name": "Acme"}).json()["created_by"] == ""
    with client_of(StampedAndReread) as client:
        assert client.post("/companies", json={"name": "Beta"}).json()["created_by"] == "trigger"


UTC, PARIS = datetime.UTC, ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("field", "value", "as_written"), [
    (django_models.CharField(max_length=5), "a", True),
    (django_models.IntegerField(), 5, True),
    (django_models.IntegerField(), True, False),  # read back as 1
    (django_models.BooleanField(), False, True),
    (django_models.UUIDField(), uuid.uuid4(), True),
    (django_models.DateField(), datetime.date(2026, 1, 1), True),
    (django_models.DateTimeField(), datetime.datetime(2026, 1, 1, tzinfo=UTC), True),
    (django_models.DateTimeField(), datetime.datetime(2026, 1, 1, tzinfo=PARIS), False),  # read back in UTC
    (django_models.DecimalField(max_digits=5, decimal_places=2), Decimal("1.5"), False),
    (django_models.JSONField(), {"b": 1, "a": 2}, False),
    (django_models.CharField(max_length=5, choices=[("a", "A")]), models.Employee.Type.OWNER, False),
    (type("Lower", (django_models.CharField,), {})(max_length=5), "a", False),  # a custom field
])
def test_which_values_are_read_back(field, value, as_written):
    assert stored_as_written(field, value) is as_written


class Meddled(Companies):
    """Another request changes a column this one does not write, after this one read the row."""

    def perform_update(self, instance):
        models.Company.objects.filter(pk=instance.pk).update(created_by="someone else")
        super().perform_update(instance)


def test_an_update_answers_every_column_as_stored():
    company = models.Company.objects.create(name="Acme", tenant_id="t", created_by="me")
    with client_of(Meddled) as client:
        response = client.patch(f"/companies/{company.pk}", json={"name": "Acme 2"})
        assert response.status_code == 200
        assert response.json()["created_by"] == "someone else"
        got = client.get(f"/companies/{company.pk}")
    assert (response.content, response.headers["etag"]) == (got.content, got.headers["etag"])


class CompanyCounted(CompanyOut):
    department_total: int


class Counted(Companies):
    schemas = Schemas(get=CompanyCounted, create=CompanyIn, update=CompanyIn)

    def get_queryset(self):
        from django.db.models import Count

        return super().get_queryset().annotate(department_total=Count("departments"))

    def perform_create(self, instance):
        super().perform_create(instance)
        models.Department.objects.create(company=instance, name="Sales")


def test_a_create_answers_what_get_queryset_annotates():
    with client_of(Counted) as client:
        created = client.post("/companies", json={"name": "Acme"})
        assert created.status_code == 201, created.text
        assert created.json()["department_total"] == 1
        got = client.get(f"/companies/{created.json()['id']}")
    assert (created.content, created.headers["etag"]) == (got.content, got.headers["etag"])


class DepartmentIn(BaseModel):
    id: int | None = None
    name: str


class CompanyWithDepartments(CompanyIn):
    departments: list[DepartmentIn] = []


class CountedNested(Counted):
    schemas = Schemas(get=CompanyCounted, create=CompanyIn, update=CompanyWithDepartments)


@pytest.mark.parametrize(("method", "departments", "total"), [
    ("patch", [{"name": "only"}], 1),
    ("put", [{"name": "a"}, {"name": "b"}, {"name": "c"}], 3),
])
def test_an_update_of_a_nested_list_answers_the_annotations_as_they_are_now(method, departments, total):
    with client_of(CountedNested) as client:
        created = client.post("/companies", json={"name": "Acme"}).json()
        models.Department.objects.create(company_id=created["id"], name="Extra")  # two now
        assert client.get(f"/companies/{created['id']}").json()["department_total"] == 2
        body = {"departments": departments}
        if method == "put":
            body["name"] = "Acme"
        written = client.request(method, f"/companies/{created['id']}", json=body)
        assert written.status_code == 200, written.text
        assert written.json()["department_total"] == total
        got = client.get(f"/companies/{created['id']}")
        assert (written.content, written.headers["etag"]) == (got.content, got.headers["etag"])
        again = client.patch(f"/companies/{created['id']}", json={"name": "Acme 2"},
                             headers={"If-Match": written.headers["etag"]})
        assert again.status_code == 200, again.text
