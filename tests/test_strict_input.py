"""Nothing a client sends is silently ignored: an unknown query parameter, an unsupported
lookup, a repeated scalar and an unknown body field are each a 422 naming it, with nothing
written; `__in` takes comma-separated values as in django-filter."""

from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from djfapi import ModelViewSet, Router, Schemas, action
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, DepartmentFactory


class DepartmentOut(BaseModel):
    id: int
    name: str


class DepartmentWrite(BaseModel):
    id: int | None = None
    name: str


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    created_at: datetime
    departments: list[DepartmentOut] = []


class CompanyIn(BaseModel):
    name: str
    archived: bool = False
    departments: list[DepartmentWrite] = []


class Note(BaseModel):
    text: str


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)
    filter_fields = ["id", "name", "archived", "created_at"]
    search_fields = ["name"]
    ordering_fields = ["name"]
    tenant_field = None

    @action(detail=True, methods=["post"])
    def note(self, instance, note: Note) -> dict:
        return {"noted": note.text}


class HookedViewSet(CompanyViewSet):
    extra_query_params = ["mine"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.filter(archived=True) if self.request.query_params.get("mine") else queryset


class LooseViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=Loose, update=Loose)
    tenant_field = None

    def perform_create(self, instance):
        instance.tenant_id = "tenant-a"
        super().perform_create(instance)


@pytest.fixture(scope="module")
def app():
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("hooked", HookedViewSet)
    router.register("loose", LooseViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def companies():
    return [CompanyFactory(name="Ann"), CompanyFactory(name="Bob"), CompanyFactory(name="Cid", archived=True)]


UNKNOWN = ["foo=bar", "titel=x", "company__tenant_id=t", "tenant_id=t", "_connector=OR", "_negated=1",
           "pk__in=1", "name__regex=.*", "name__iregex=a", "name__search=a", "name__range=a,b",
           "name__week_day=1", "archived__contains=a", "archived__range=0,1", "created_at__hour=1",
           "created_at__iso_year=2020", "created_at__icontains=2020", "name__isnull__not=true"]


@pytest.mark.parametrize("query", UNKNOWN)
def test_an_unknown_query_parameter_on_a_list_is_422_naming_it(client, companies, query):
    response = client.get(f"/companies?{query}")
    assert response.status_code == 422, response.text
    name = query.split("=")[0]
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", name]
    assert error["type"] == "unknown_parameter"
    assert "name__icontains" in error["msg"]  # it says what the route accepts


@pytest.mark.parametrize("path", ["/companies/{id}", "/companies/{id}/note"])
def test_unknown_query_parameters_are_refused_on_every_route(client, companies, path):
    method = "POST" if path.endswith("note") else "GET"
    response = client.request(method, path.format(id=companies[0].id) + "?verbose=1", json={"text": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "verbose"]


def test_a_viewset_may_declare_extra_query_parameters_for_its_hooks(client, companies):
    assert [c["name"] for c in client.get("/hooked?mine=1").json()["items"]] == ["Cid"]
    assert client.get("/hooked?theirs=1").status_code == 422


def test_a_repeated_scalar_parameter_is_422(client, companies):
    response = client.get("/companies?name=Ann&name=Bob")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "name"]
    assert response.json()["detail"][0]["type"] == "repeated_parameter"
    assert client.get("/companies?limit=1&limit=2").status_code == 422


@pytest.mark.parametrize("query", ["name__in=Ann,Cid", "name__in=Ann&name__in=Cid",
                                   "name__in=Ann,Cid&name__in=Ann", "!name__in=Bob"])
def test_in_takes_comma_separated_and_repeated_values(client, companies, query):
    assert [c["name"] for c in client.get(f"/companies?{query}").json()["items"]] == ["Ann", "Cid"]


def test_in_of_numbers_splits_too_and_checks_each_value(client, companies):
    ids = f"{companies[0].id},{companies[2].id}"
    assert [c["name"] for c in client.get(f"/companies?id__in={ids}").json()["items"]] == ["Ann", "Cid"]
    response = client.get(f"/companies?id__in={companies[0].id},x")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "id__in", 1]


def test_an_unknown_body_field_is_422_naming_it_and_nothing_changes(client, companies):
    company = companies[0]
    response = client.patch(f"/companies/{company.id}", json={"nme": "typo"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"loc": ["body", "nme"], "type": "unknown_field",
                                          "msg": "Unknown field. This body writes: archived, departments, "
                                                 "name (the read-only fields of the response are "
                                                 "accepted and ignored)."}]
    response = client.post("/companies", json={"name": "New", "departments": [{"name": "Ops", "budget": 1}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "departments", 0, "budget"]
    assert models.Company.objects.filter(name="New").count() == 0
    response = client.post(f"/companies/{company.id}/note", json={"text": "hi", "txet": "typo"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "txet"]
    assert models.Company.objects.get(pk=company.pk).name == "Ann"


def test_read_only_fields_sent_back_from_a_get_are_ignored(client, companies):
    company = companies[0]
    DepartmentFactory(company=company, name="Ops")
    body = client.get(f"/companies/{company.id}").json()
    body["name"] = "Ann 2"
    response = client.put(f"/companies/{company.id}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Ann 2"
    assert [d["name"] for d in response.json()["departments"]] == ["Ops"]


def test_a_schema_with_extra_allow_takes_anything(client):
    response = client.post("/loose", json={"name": "Loose", "whatever": 1})
    assert response.status_code == 201, response.text


def test_json_sent_as_a_form_is_a_422_not_a_row(client):
    # A create takes forms too (tests/test_uploads.py): this one's only key is the JSON text.
    response = client.post("/companies", content=b'{"name": "X"}',
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "unknown_field"
    assert not models.Company.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_a_body_that_is_not_json_is_415(client, content_type):
    response = client.post("/companies", content=b'{"name": "X"}', headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert not models.Company.objects.exists()
    bare = client.post("/companies", content=b'{"name": "X"}', headers={"Content-Type": ""})
    assert bare.status_code == 415  # FastAPI would not read it as JSON, and say the body is not a dict
    assert "Content-Type: application/json" in bare.json()["detail"]
    vendor = client.post("/loose", content=b'{"name": "X"}',
                         headers={"Content-Type": "application/vnd.api+json; charset=utf-8"})
    assert vendor.status_code == 201, vendor.text


def test_a_body_of_many_unknown_fields_gets_a_bounded_answer(client):
    from djfapi.inputs import MAX_ERRORS

    body = {"name": "Acme", **{f"k{index}": 0 for index in range(5000)}}
    response = client.post("/companies", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1
    assert detail[-1] == {"loc": ["body"], "type": "too_many_errors", "msg": "4950 more errors are left out."}
    assert len(response.content) < 20_000


def test_a_query_of_many_unknown_parameters_gets_a_bounded_answer(client):
    from djfapi.inputs import MAX_ERRORS

    response = client.get("/companies", params={f"unknown{index}": "x" for index in range(500)})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1
    assert detail[0]["loc"] == ["query", "unknown0"] and "This route accepts:" in detail[0]["msg"]
    assert detail[1] == {"loc": ["query", "unknown1"], "type": "unknown_parameter",
                         "msg": "Unknown query parameter."}
    assert detail[-1] == {"loc": ["query"], "type": "too_many_errors", "msg": "450 more errors are left out."}
    assert len(response.content) < 20_000


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+01:00"])
def test_a_body_moment_outside_years_1_to_9999_in_utc_is_a_422_at_its_field(moment):
    from fastapi.testclient import TestClient

    from tests.test_uploads import DocumentViewSet, client_for

    document = models.Document.objects.create(title="d")
    with client_for(("documents", DocumentViewSet)) as api:
        assert isinstance(api, TestClient)
        for response in (api.post("/documents", json={"title": "x", "due_at": moment}),
                         api.patch(f"/documents/{document.pk}", json={"due_at": moment})):
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["body", "due_at"]
            assert "outside years 1-9999" in response.json()["detail"][0]["msg"]
    assert list(models.Document.objects.values_list("title", "due_at")) == [("d", None)]


def test_a_body_moment_with_any_offset_is_stored_as_the_same_instant():
    import datetime

    from tests.test_uploads import DocumentViewSet, client_for

    with client_for(("documents", DocumentViewSet)) as api:
        created = api.post("/documents", json={"title": "x", "due_at": "2026-01-01T10:00:00+20:00"})
        assert created.status_code == 201, created.text
        assert created.json() == api.get(f"/documents/{created.json()['id']}").json()
    stored = models.Document.objects.get().due_at
    assert stored == datetime.datetime(2025, 12, 31, 14, 0, tzinfo=datetime.UTC)


def test_a_nul_in_a_text_path_value_is_a_422_at_the_path():
    from tests.testapp.api import create_app

    models.Country.objects.create(code="ES", name="Spain")
    with TestClient(create_app()) as client:
        assert client.get("/api/countries/ES").status_code == 200
        response = client.get("/api/countries/E%00")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "country_id"]
    assert "NUL" in response.json()["detail"][0]["msg"]
