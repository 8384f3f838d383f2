"""What a DRF user writes on a viewset is honoured or refused, never ignored: ``queryset`` is
the base of ``get_queryset()`` (evaluated per request, ``model`` optional), and DRF attributes
djfapi has no counterpart of fail at registration, naming djfapi's equivalent."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.viewsets.drf import DRF_ATTRIBUTES
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, DepartmentFactory


class CompanyOut(BaseModel):
    id: int
    name: str


class CompanyIn(BaseModel):
    name: str


class ActiveCompanyViewSet(ModelViewSet):
    queryset = models.Company.objects.filter(archived=False)  # no model: it comes from here
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)
    tenant_field = None

    def perform_create(self, instance):
        instance.tenant_id = "tenant-a"
        super().perform_create(instance)


class DepartmentViewSet(ModelViewSet):
    model = models.Department
    schemas = Schemas(get=CompanyOut)


@pytest.fixture
def client():
    router = Router()
    router.register("companies", ActiveCompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=ActiveCompanyViewSet)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_queryset_hides_what_it_leaves_out_on_every_route(client):
    active = CompanyFactory(name="Active")
    archived = CompanyFactory(name="Archived", archived=True)
    DepartmentFactory(company=archived)
    assert [c["name"] for c in client.get("/companies").json()["items"]] == ["Active"]
    assert client.get(f"/companies/{archived.id}").status_code == 404
    assert client.get(f"/companies/{archived.id}/departments").status_code == 404
    assert client.patch(f"/companies/{archived.id}", json={"name": "X"}).status_code == 404
    assert client.get(f"/companies/{active.id}").status_code == 200


def test_queryset_is_evaluated_afresh_for_each_request(client):
    assert client.get("/companies").json()["items"] == []
    CompanyFactory(name="Later")
    assert [c["name"] for c in client.get("/companies").json()["items"]] == ["Later"]
    assert client.post("/companies", json={"name": "Posted"}).status_code == 201
    assert client.get("/companies").json()["total"] == 2


def test_queryset_and_model_must_agree():
    class Mismatch(ActiveCompanyViewSet):
        model = models.Department

    with pytest.raises(ImproperlyConfigured, match="queryset is of Company but model is Department"):
        Router().register("mismatch", Mismatch)


@pytest.mark.parametrize("name", sorted(DRF_ATTRIBUTES))
def test_drf_attributes_without_a_counterpart_are_refused_naming_the_equivalent(name):
    viewset = type("DrfStyleViewSet", (ActiveCompanyViewSet,), {name: object()})
    with pytest.raises(ImproperlyConfigured, match=f"DrfStyleViewSet.{name} is a DRF attribute") as error:
        Router().register("companies", viewset)
    assert DRF_ATTRIBUTES[name] in str(error.value)
