"""Router: registration records, the route table, nesting, paths, names and configuration errors."""

import pydantic
import pytest
from fastapi import FastAPI

from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.routers import build_routes
from tests.testapp import api, models
from tests.testapp.factories import (
    CompanyFactory,
    DepartmentFactory,
    OfficeFactory,
    TeamFactory,
)
from tests.testapp.models import Department, Team


def routes_of(router):
    return {(route.path, method): route for route in router.routes for method in route.methods}


def test_registration_records_the_nesting():
    router = api.build_router()
    teams = next(r for r in router.registrations if r.prefix == "teams")
    assert [r.prefix for r in teams.chain] == ["companies", "departments", "teams"]
    assert teams.basename == "companies-departments-teams"
    assert teams.parent_lookup_field == "department"
    assert teams.detail_path == "/companies/{company_id}/departments/{department_id}/teams/{team_id}"
    assert "Registration(prefix='teams'" in repr(teams)


def test_build_routes_binds_only_the_actions_a_viewset_has():
    router = api.build_router()
    by_prefix = {r.prefix: r for r in router.registrations}
    assert [(r.action, r.methods, r.path) for r in build_routes(by_prefix["countries"])] == [
        ("list", ("GET",), "/countries"),
        ("retrieve", ("GET",), "/countries/{country_id}"),
    ]
    assert [r.action for r in build_routes(by_prefix["offices"])] == [
        "list", "create", "retrieve", "destroy",
    ]
    assert [r.action for r in build_routes(by_prefix["companies"])] == [
        "summary", "list", "create", "retrieve", "update", "partial_update", "destroy", "archive",
    ]


def test_routes_paths_names_and_operation_ids():
    routes = routes_of(api.build_router())
    expected = {
        ("/companies", "GET"): ("companies-list", "companies_list", "List companies"),
        ("/companies", "POST"): ("companies-create", "companies_create", "Create company"),
        ("/companies/{company_id}", "PATCH"): (
            "companies-partial_update", "companies_partial_update", "Partial update company"),
        ("/companies/{company_id}/archive", "POST"): (
            "companies-archive", "companies_archive", "Archive a company."),
        ("/companies/{company_id}/departments/{department_id}/teams/{team_id}", "DELETE"): (
            "companies-departments-teams-destroy", "companies_departments_teams_destroy",
            "Destroy team"),
    }
    for key, (name, operation_id, summary) in expected.items():
        route = routes[key]
        assert (route.name, route.operation_id, route.summary) == (name, operation_id, summary)


def test_operation_ids_are_unique_and_tags_default_to_the_prefix(app):
    schema = app.openapi()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) == 26  # 8 + 6 + 6 + 4 + 2
    assert schema["paths"]["/api/companies/{company_id}/departments"]["get"]["tags"] == ["departments"]


def test_router_tags_and_prefix_are_honoured():
    router = Router(prefix="/v2")
    router.register("countries", api.CountryViewSet, tags=["reference data"])
    app = FastAPI()
    app.include_router(router)
    operation = app.openapi()["paths"]["/v2/countries"]["get"]
    assert operation["tags"] == ["reference data"]


def test_path_parameters_are_typed_from_the_primary_key(app):
    paths = app.openapi()["paths"]
    office = paths["/api/companies/{company_id}/offices/{office_id}"]["get"]["parameters"]
    by_name = {p["name"]: p["schema"] for p in office}
    assert by_name["company_id"]["type"] == "integer"
    assert by_name["office_id"] == {"type": "string", "format": "uuid", "title": "Office Id",
                                    "description": "office pk"}
    country = paths["/api/countries/{country_id}"]["get"]["parameters"][0]["schema"]
    assert (country["type"], country["maxLength"]) == ("string", 2)


def test_uuid_and_text_keys_are_validated(client):
    company = CompanyFactory()
    assert client.get(f"/api/companies/{company.id}/offices/not-a-uuid").status_code == 422
    assert client.get("/api/countries/DEU").status_code == 422
    office = OfficeFactory(company=company)
    response = client.get(f"/api/companies/{company.id}/offices/{office.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(office.id)


def test_three_levels_of_nesting(client):
    team = TeamFactory()
    department = team.department
    base = f"/api/companies/{department.company_id}/departments/{department.id}/teams"
    assert client.get(base).json() == {
        "items": [{"id": team.id, "department_id": department.id, "name": team.name}]
    }
    created = client.post(base, json={"name": "Platform"})
    assert created.status_code == 201
    assert Team.objects.get(pk=created.json()["id"]).department_id == department.id
    assert client.get(f"{base}/{team.id}").json()["name"] == team.name


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_parent_under_the_wrong_grandparent_is_404(client, method):
    department = DepartmentFactory()
    other_company = CompanyFactory()
    path = f"/api/companies/{other_company.id}/departments/{department.id}/teams"
    response = client.request(method, path, json={"name": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": f"No department with department_id {department.id}."}
    assert not Team.objects.exists()


def test_a_parent_hidden_by_its_viewsets_get_queryset_is_404(client):
    department = DepartmentFactory(company__tenant_id="tenant-b")
    path = f"/api/companies/{department.company_id}/departments"
    assert client.get(path, headers={"X-Tenant": "tenant-b"}).status_code == 200
    for method in ("get", "post"):
        response = client.request(method, path, headers={"X-Tenant": "tenant-a"}, json={"name": "x"})
        assert response.status_code == 404, method
    detail = client.get(f"{path}/{department.id}", headers={"X-Tenant": "tenant-a"})
    assert detail.status_code == 404
    assert Department.objects.count() == 1


def test_a_child_of_another_parent_is_404(client):
    department = DepartmentFactory()
    other_company = CompanyFactory()
    response = client.get(f"/api/companies/{other_company.id}/departments/{department.id}")
    assert response.status_code == 404


def test_create_sets_the_parent_from_the_path(client):
    company = CompanyFactory()
    response = client.post(f"/api/companies/{company.id}/departments", json={"name": "Sales"})
    assert response.status_code == 201
    assert response.json()["company_id"] == company.id
    assert Department.objects.get().company_id == company.id


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_body_cannot_move_an_object_to_another_parent(client, method):
    department = DepartmentFactory()
    other_company = CompanyFactory()
    path = f"/api/companies/{department.company_id}/departments/{department.id}"
    response = client.request(method, path, json={"name": "Moved?", "company_id": other_company.id})
    assert response.status_code == 200
    department.refresh_from_db()
    assert (department.name, department.company_id) == ("Moved?", response.json()["company_id"])
    assert department.company_id != other_company.id


# -- configuration errors at registration -------------------------------------------------------

def test_registering_a_child_before_its_parent_fails():
    router = Router()
    with pytest.raises(ImproperlyConfigured, match="not registered on this router yet; register "
                                                   "CompanyViewSet first"):
        router.register("departments", api.DepartmentViewSet, parent=api.CompanyViewSet)


def test_registering_twice_under_one_basename_fails():
    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match="basename 'companies' is registered already"):
        router.register("companies", api.CompanyViewSet)
    router.register("firms", api.CompanyViewSet)  # another prefix is another basename
    with pytest.raises(ImproperlyConfigured, match="registered 2 times"):
        router.register("departments", api.DepartmentViewSet, parent=api.CompanyViewSet)
    registration = router.register("departments", api.DepartmentViewSet, parent="firms")
    assert registration.collection_path == "/firms/{company_id}/departments"


def test_ambiguous_parent_foreign_key_must_be_named():
    class TransferViewSet(ModelViewSet):
        model = models.Transfer
        schemas = Schemas(get=api.CountryOut)

    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match=r"several ForeignKeys \['source', 'target'\]"
                                                   r".*set TransferViewSet.parent_lookup_field"):
        router.register("transfers", TransferViewSet, parent=api.CompanyViewSet)

    class SourceTransferViewSet(TransferViewSet):
        parent_lookup_field = "source"

    registration = router.register("transfers", SourceTransferViewSet, parent=api.CompanyViewSet)
    assert registration.parent_lookup_field == "source"


def test_unrelated_parent_fails():
    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match="Country has no ForeignKey to Company"):
        router.register("countries", api.CountryViewSet, parent=api.CompanyViewSet)


def test_wrong_explicit_parent_lookup_field_fails():
    class BadDepartmentViewSet(api.DepartmentViewSet):
        parent_lookup_field = "name"

    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match="parent_lookup_field = 'name' is not a "
                                                   "ForeignKey from Department to Company"):
        router.register("departments", BadDepartmentViewSet, parent=api.CompanyViewSet)


def test_a_path_naming_one_value_twice_fails():
    class SameKwargViewSet(api.DepartmentViewSet):
        lookup_url_kwarg = "company_id"

    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match="names 'company_id' twice"):
        router.register("departments", SameKwargViewSet, parent=api.CompanyViewSet)


def test_missing_model_fails():
    class NoModelViewSet(ModelViewSet):
        schemas = Schemas(get=api.CountryOut)

    with pytest.raises(ImproperlyConfigured, match="NoModelViewSet.model must be a Django model"):
        Router().register("things", NoModelViewSet)


def test_not_a_viewset_fails():
    with pytest.raises(ImproperlyConfigured, match="must be a GenericViewSet subclass"):
        Router().register("things", models.Company)


def test_write_schema_fields_must_exist_on_the_model():
    from pydantic import BaseModel

    class Typo(BaseModel):
        nmae: str

    class TypoViewSet(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=api.CompanyOut, create=Typo)

    with pytest.raises(ImproperlyConfigured, match="TypoViewSet.schemas.create: field 'nmae' of "
                                                   "Typo is not a field of Company"):
        Router().register("companies", TypoViewSet)


def test_write_schema_without_get_schema_fails():
    class WriteOnlyViewSet(ModelViewSet):
        model = models.Company
        schemas = Schemas(create=api.CompanyIn)

    with pytest.raises(ImproperlyConfigured, match="has create= but no get="):
        Router().register("companies", WriteOnlyViewSet)


def test_bad_lookup_field_fails():
    class SlugViewSet(ReadOnlyModelViewSet):
        model = models.Company
        schemas = Schemas(get=api.CompanyOut)
        lookup_field = "slug"

    with pytest.raises(ImproperlyConfigured, match="lookup_field = 'slug' is not a field of Company"):
        Router().register("companies", SlugViewSet)


def test_lookup_by_another_unique_field(client):
    class ByNameViewSet(ReadOnlyModelViewSet):
        model = models.Company
        schemas = Schemas(get=api.CompanyOut)
        lookup_field = "name"
        lookup_url_kwarg = "company_name"

    router = Router()
    router.register("companies", ByNameViewSet)
    app = FastAPI()
    app.include_router(router)
    from fastapi.testclient import TestClient

    CompanyFactory(name="acme")
    with TestClient(app) as by_name:
        assert by_name.get("/companies/acme").json()["name"] == "acme"
        assert by_name.get("/companies/nope").status_code == 404
    parameter = app.openapi()["paths"]["/companies/{company_name}"]["get"]["parameters"][0]
    assert parameter["schema"]["maxLength"] == 100


def test_action_with_a_reserved_parameter_fails():
    class ClashViewSet(api.CountryViewSet):
        @action(detail=True)
        def stats(self, instance, country_id: str):
            return {}

    with pytest.raises(ImproperlyConfigured, match=r"parameters \['country_id'\] that djfapi passes"):
        Router().register("countries", ClashViewSet)


def test_detail_action_must_take_instance():
    class NoInstanceViewSet(api.CountryViewSet):
        @action(detail=True)
        def stats(self):
            return {}

    with pytest.raises(ImproperlyConfigured, match=r"must start with \(self, instance\)"):
        Router().register("countries", NoInstanceViewSet)


@pytest.mark.parametrize("prefix", ["", "/", "companies/{id}"])
def test_bad_prefix_fails(prefix):
    with pytest.raises(ImproperlyConfigured, match="the prefix must be a plain path"):
        Router().register(prefix, api.CompanyViewSet)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/api/companies", "GET, HEAD, OPTIONS, POST"),
    ("POST", "/api/companies/1", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
    ("GET", "/api/companies/1/archive", "OPTIONS, POST"),
    ("HEAD", "/api/companies/1/archive", "OPTIONS, POST"),
    ("DELETE", "/api/companies/1/departments", "GET, HEAD, OPTIONS, POST"),
])
def test_a_405_names_every_method_the_path_serves(client, method, path, allowed):
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method != "HEAD":
        assert response.json() == {"detail": "Method Not Allowed"}


def test_a_create_nothing_gives_a_tenant_fails_at_registration():
    class Unsecured(ModelViewSet):  # no security: tenancy sets no tenant, and a body cannot
        model = models.Company
        schemas = Schemas(get=api.CompanyOut, create=api.CompanyIn)

    with pytest.raises(ImproperlyConfigured,
                       match=r"Unsecured creates Company rows without tenant_id.*perform_create"):
        Router().register("companies", Unsecured)

    class Stamping(Unsecured):
        def perform_create(self, instance):
            instance.tenant_id = "demo"
            super().perform_create(instance)

    class Shared(Unsecured):
        tenant_field = None

    for viewset in (Stamping, Shared):
        Router().register("companies", viewset)


@pytest.mark.parametrize(("model", "path"), [
    (models.Department, "company"), (models.Department, "company_id"),
    (models.Company, "departments"), (models.Company, "tags")])
def test_a_relation_in_search_fields_fails_at_registration(model, path):
    class Searching(ReadOnlyModelViewSet):
        schemas = Schemas(get=api.CompanyOut)
        tenant_field = None
        search_fields = ["id", path]

    Searching.model = model
    with pytest.raises(ImproperlyConfigured, match=rf"{path!r} is a relation.*e\.g\. "):
        Router().register("rows", Searching)


def test_list_attributes_given_as_one_string():
    from djfapi.schemas import Field
    from djfapi.testing import Client

    class CompanyShown(pydantic.BaseModel):
        id: int
        name: str
        archived: bool
        created_by: str = Field("", scopes=["audit"])  # hidden without the scope: not orderable

    class Named(ReadOnlyModelViewSet):
        model = models.Company
        schemas = Schemas(get=CompanyShown)
        tenant_field = None
        ordering = "-name"           # DRF takes one name
        ordering_fields = "__all__"  # DRF's every field: here the ones shown to everyone

    for name in ("Beta", "Acme"):
        models.Company.objects.create(tenant_id="t", name=name)
    app = FastAPI()
    router = Router()
    router.register("companies", Named)
    app.include_router(router)
    client = Client(app)
    assert [row["name"] for row in client.get("/companies").json()["items"]] == ["Beta", "Acme"]
    choices = app.openapi()["components"]["schemas"]["CompanyOrdering"]["enum"]
    assert sorted(choice.lstrip("-") for choice in choices) == sorted(["id", "id", "name", "name",
                                                                       "archived", "archived"])
    assert client.get("/companies", params={"order_by": "created_by"}).status_code == 422
    assert client.get("/companies", params={"order_by": "tenant_id"}).status_code == 422

    class Filtered(Named):
        filter_fields = "__all__"  # the same fields: a hidden one cannot be guessed through a filter

    router = Router()
    router.register("filtered", Filtered)
    app.include_router(router)
    client = Client(app)
    found = client.get("/filtered", params={"name": "Acme"}).json()["items"]
    assert [row["name"] for row in found] == ["Acme"]
    for hidden in ("created_by__startswith", "created_by", "tenant_id", "created_at__year"):
        response = client.get("/filtered", params={hidden: "x"})
        assert response.status_code == 422, hidden
        assert response.json()["detail"][0]["loc"] == ["query", hidden]
    for attribute in ("search_fields", "filter_fields", "ordering_fields"):
        broken = type("Broken", (Named,), {"ordering_fields": ["name"], attribute: "name"})
        expected = rf"Broken.{attribute} = 'name' is one string.*\['name'\]"
        with pytest.raises(ImproperlyConfigured, match=expected):
            Router().register("broken", broken)
