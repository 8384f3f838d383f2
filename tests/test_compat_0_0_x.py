# ruff: noqa: E501 - the 0.0.x README's example is kept as it was written
"""djfapi 0.0.x's README example, unchanged but for the imports, end to end with ES512 tokens
(scopes in `aud`): paths, list shape, the `own` selector, three levels of nesting, and 0.0.x's
options."""

from types import SimpleNamespace

import anyio.to_thread
import pytest
from django.db.models import Q
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi.compat.router_schema import ObjectsFilterMixin
from djfapi.permissions import Access
from djfapi.routing.django import DjangoRouterSchema, Method, SecurityScopes
from djfapi.security.jwt import JWTToken
from djfapi.testing import Client, make_token
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, EmployeeFactory


class Company(BaseModel):
    id: int
    name: str


class CompanyCreate(BaseModel):
    name: str


class CompanyUpdate(BaseModel):
    name: str


class Named(BaseModel):
    id: int
    name: str


class NamedIn(BaseModel):
    name: str


class Costcenter(BaseModel):
    id: int
    name: str
    amount: int
    status: str


schemas = SimpleNamespace(
    response=SimpleNamespace(Company=Company),
    request=SimpleNamespace(CompanyCreate=CompanyCreate, CompanyUpdate=CompanyUpdate),
)

# ---- from the 0.0.x README, as it was ----------------------------------------------------------
transaction_token = JWTToken(scheme_name="Transaction Token")


def company_objects_filter(access: Access) -> Q:
    q = Q(tenant_id=access.tenant_id)
    if access.scope.selector != 'any':
        q &= Q(employees__user_id=access.user_id, employees__type__in=[models.Employee.EmployeeType.OWNER, models.Employee.EmployeeType.ADMIN])
    return q


router = DjangoRouterSchema(
    name='companies', model=models.Company,
    get=schemas.response.Company, create=schemas.request.CompanyCreate, update=schemas.request.CompanyUpdate,
    security=transaction_token,
    security_scopes=SecurityScopes(
        get=['business.companies.read.any', 'business.companies.read.own'],
        post=['business.companies.create'],
        patch=['business.companies.update.any', 'business.companies.update.own'],
        put=['business.companies.update.any', 'business.companies.update.own'],
        delete=['business.companies.delete.any', 'business.companies.delete.own'],
    ),
    objects_filter=company_objects_filter,
    children=[
        DjangoRouterSchema(name='departments', model=models.CompanyDepartment, get=Named, create=NamedIn, update=NamedIn,
            children=[DjangoRouterSchema(name='teams', model=models.CompanyDepartmentTeam, get=Named, create=NamedIn, update=NamedIn)]),
        DjangoRouterSchema(name='costcenters', model=models.CompanyCostcenter, get=Costcenter, create=NamedIn, update=NamedIn,
            delete_status='deleted', pagination_options={'max_limit': 2, 'default_order_by': ['-name']},
            cache_control='private, max-age=60', create_multi=True),
    ],
)
app = FastAPI()
app.include_router(router.router)
# ------------------------------------------------------------------------------------------------

ANY = ["business.companies.read.any", "business.companies.update.any", "business.companies.create",
       "business.companies.delete.any"]
OWN = ["business.companies.read.own", "business.companies.update.own"]


def client_with(scopes, *, tenant="t1", user="u1", prefix="Bearer "):
    client = Client(app)
    client.headers["Authorization"] = prefix + make_token(scopes, tenant=tenant, user=user, scopes_claim="aud")
    return client


@pytest.fixture
def companies():
    owned = CompanyFactory(tenant_id="t1", name="Owned")
    other = CompanyFactory(tenant_id="t1", name="Other")
    CompanyFactory(tenant_id="t2", name="Elsewhere")
    EmployeeFactory(company=owned, user_id="u1", type="owner")
    EmployeeFactory(company=other, user_id="u1", type="member")
    return owned, other


def test_paths_are_those_of_0_0_x():
    paths = set(app.openapi()["paths"])
    assert {
        "/companies", "/companies/{company_id}",
        "/companies/{company_id}/departments/{department_id}",
        "/companies/{company_id}/departments/{department_id}/teams/{team_id}",
        "/companies/{company_id}/costcenters/{costcenter_id}",
        "/companies/aggregate/{function}/{field}",
    } <= paths
    scheme = app.openapi()["components"]["securitySchemes"]["Transaction Token"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "Authorization"}


def test_list_shape_and_the_own_selector(companies):
    assert client_with(ANY).get("/companies").json() == {
        "items": [{"id": companies[0].id, "name": "Owned"}, {"id": companies[1].id, "name": "Other"}]}
    assert client_with(OWN).get("/companies").json() == {"items": [{"id": companies[0].id, "name": "Owned"}]}
    assert client_with(OWN).get(f"/companies/{companies[1].id}").status_code == 404


@pytest.mark.parametrize("prefix", ["Bearer ", ""])
def test_the_token_may_come_with_or_without_bearer(companies, prefix):
    assert client_with(ANY, prefix=prefix).get("/companies").status_code == 200


def test_bad_tokens_and_missing_scopes():
    assert Client(app).get("/companies").status_code == 401
    assert client_with(ANY, prefix="Bearer x").get("/companies").status_code == 401
    assert client_with(["business.companies.create"]).get("/companies").status_code == 403


def test_three_levels_of_nesting_with_the_own_selector(companies):
    owned, other = companies
    writer = client_with(["business.companies.update.own", "business.companies.read.own"])
    department = writer.post(f"/companies/{owned.id}/departments", json={"name": "Sales"})
    assert department.status_code == 201
    department_id = department.json()["id"]
    team = writer.post(f"/companies/{owned.id}/departments/{department_id}/teams", json={"name": "North"})
    assert team.status_code == 201
    path = f"/companies/{owned.id}/departments/{department_id}/teams/{team.json()['id']}"
    assert writer.get(path).json() == {"id": team.json()["id"], "name": "North"}
    assert writer.post(f"/companies/{other.id}/departments", json={"name": "x"}).status_code == 404
    assert client_with(ANY, tenant="t2").get(path).status_code == 404
    assert models.CompanyDepartmentTeam.objects.count() == 1


def test_costcenter_options(companies):
    owned, _ = companies
    client = client_with(ANY)
    base = f"/companies/{owned.id}/costcenters"
    created = client.post(base, json=[{"name": "A"}, {"name": "B"}, {"name": "C"}])  # create_multi
    assert created.status_code == 201
    assert [c["name"] for c in created.json()] == ["A", "B", "C"]
    single = client.post(base, json={"name": "D"})
    assert single.json()["name"] == "D"
    listed = client.get(base)
    assert [c["name"] for c in listed.json()["items"]] == ["D", "C"]  # default_order_by, max_limit 2
    assert listed.headers["Cache-Control"] == "private, max-age=60"
    assert client.get(base, params={"limit": 3}).status_code == 422  # over max_limit
    assert client.delete(f"{base}/{created.json()[0]['id']}").status_code == 204
    assert models.CompanyCostcenter.objects.get(name="A").status == "deleted"  # delete_status
    names = [c["name"] for c in client.get(base, params={"offset": 0, "order_by": "name"}).json()["items"]]
    assert names == ["B", "C"]
    counted = client.get(f"/companies/{owned.id}/costcenters/aggregate/count/id").json()
    assert counted == {"values": [{"value": 3}]}


def test_list_false_get_endpoint_false_and_delete_false():
    node = DjangoRouterSchema(name="companies", model=models.Company, get=Company, list=False,
                              get_endpoint=False, delete=False, update=CompanyUpdate)
    routes = {(method, route.path) for route in node.router.routes for method in route.methods
              if route.include_in_schema}  # not the hidden HEAD and OPTIONS routes
    assert routes == {("PUT", "/companies/{company_id}"), ("PATCH", "/companies/{company_id}"),
                      ("GET", "/companies/aggregate/{function}/{field}")}


def test_hand_written_endpoints_get_the_same_signature_treatment(companies, monkeypatch):
    owned, other = companies

    @router.endpoint(Method.GET)
    def company_summary(access: Access, company_id: int) -> dict:
        company = models.Company.objects.filter(company_objects_filter(access)).distinct().get(pk=company_id)
        return {"name": company.name, "user": access.user_id, "departments": company.company_departments.count()}

    extra = FastAPI()
    extra.include_router(router.router)
    extra.add_api_route("/companies/{company_id}/summary", company_summary, methods=["GET"])
    calls = []
    original = anyio.to_thread.run_sync

    async def counting(*args, **kwargs):
        calls.append(args[0])
        return await original(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    client = Client(extra)
    client.headers["Authorization"] = make_token(OWN, tenant="t1", user="u1", scopes_claim="aud")
    assert client.get(f"/companies/{owned.id}/summary").json() == {
        "name": "Owned", "user": "u1", "departments": 0}
    assert len(calls) == 1
    assert client.get(f"/companies/{other.id}/summary").status_code == 404
    assert Client(extra).get(f"/companies/{owned.id}/summary").status_code == 401
    operation = extra.openapi()["paths"]["/companies/{company_id}/summary"]["get"]
    assert operation["security"] == [{"Transaction Token": ["business.companies.read.any",
                                                            "business.companies.read.own"]}]


def test_the_viewsets_tenant_field_is_no_filter_or_ordering_field(monkeypatch):
    # A model whose tenant is kept in a field not called tenant_id: here Company.created_by.
    monkeypatch.setattr(ObjectsFilterMixin, "tenant_field", "created_by")
    node = DjangoRouterSchema(name="companies", model=models.Company, get=Company, security=JWTToken())
    tenanted = FastAPI()
    tenanted.include_router(node.router)
    client = Client(tenanted)
    client.headers["Authorization"] = make_token([], tenant="t1", user="u1", scopes_claim="aud")
    mine = CompanyFactory(tenant_id="x", created_by="t1", name="Mine")
    CompanyFactory(tenant_id="x", created_by="t2", name="Theirs")
    assert client.get("/companies").json() == {"items": [{"id": mine.id, "name": "Mine"}]}
    assert client.get("/companies", params={"created_by": "t2"}).status_code == 422
    assert client.get("/companies", params={"order_by": "created_by"}).status_code == 422
    assert client.get("/companies", params={"tenant_id": "x", "order_by": "tenant_id"}).json()["items"] == [
        {"id": mine.id, "name": "Mine"}]


def test_an_offset_beyond_a_database_is_a_422_on_the_query(companies):
    response = client_with(ANY).get("/companies", params={"offset": 10**20})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]
