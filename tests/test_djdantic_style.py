"""Schemas written for djdantic keep working with the changes the README's migration note lists:
``Field`` from ``djfapi.schemas`` with ``orm_field`` and ``orm_method``; ``transfer_from_orm``
and ``transfer_to_orm`` under their old names."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.schemas import Field, transfer_from_orm, transfer_to_orm
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, DepartmentFactory


def set_label(company, value):
    company.name = value.upper()


class CompanyOut(BaseModel):
    id: int = Field(orm_field=models.Company.id)
    title: str = Field(orm_field=models.Company.name)
    departments: list[int] = Field(orm_field=models.Company.departments)
    department_count: int = Field(orm_method=models.Company.department_count)


class CompanyIn(BaseModel):
    title: str = Field(orm_field=models.Company.name)


class CompanyLabel(BaseModel):
    label: str = Field(orm_method=set_label)


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyLabel)

    def perform_create(self, instance):
        instance.tenant_id = "tenant-a"
        super().perform_create(instance)


def client() -> TestClient:
    router = Router()
    router.register("companies", CompanyViewSet)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_orm_field_and_orm_method_read_and_write():
    created = client().post("/companies", json={"title": "Acme"})
    assert created.status_code == 201
    company = models.Company.objects.get()
    assert company.name == "Acme"
    DepartmentFactory(company=company)
    assert client().get(f"/companies/{company.id}").json() == {
        "id": company.id, "title": "Acme", "departments": [company.departments.get().id],
        "department_count": 1,
    }
    assert client().put(f"/companies/{company.id}", json={"label": "beta"}).json()["title"] == "BETA"


def test_transfer_functions_keep_their_names():
    company = CompanyFactory(name="Acme")
    read = transfer_from_orm(CompanyOut, company)
    assert isinstance(read, CompanyOut) and read.title == "Acme"
    transfer_to_orm(CompanyIn(title="Renamed"), company)
    assert company.name == "Renamed"
