"""Page-number pages shaped as DRF's (``count``, ``next``, ``previous``, ``results``), absolute
links on limit/offset pages, the project's default pagination, and custom pagination classes."""

from typing import Any

import pytest
from django.db.models.signals import post_init
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import LimitOffsetPagination, PageNumberPagination
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, DepartmentFactory


class DepartmentOut(BaseModel):
    id: int
    name: str


class CompanyOut(BaseModel):
    id: int
    name: str
    departments: list[DepartmentOut]


class SmallPages(PageNumberPagination):
    page_size = 2
    max_page_size = 3


class CompanyViewSet(ReadOnlyModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut)
    tenant_field = None
    filter_fields = ["archived"]
    ordering_fields = ["name"]
    ordering = ["name"]
    pagination_class = SmallPages
    read_rows = "auto"  # as users have it, also when the suite runs with instances everywhere


class DepartmentViewSet(ReadOnlyModelViewSet):
    model = models.Department
    schemas = Schemas(get=DepartmentOut)
    tenant_field = None
    ordering = ["name"]
    pagination_class = SmallPages


class FixedSize(SmallPages):
    page_size_query_param = None


class FixedViewSet(CompanyViewSet):
    pagination_class = FixedSize


class OffsetViewSet(CompanyViewSet):
    pagination_class = LimitOffsetPagination


def make_app() -> FastAPI:
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    router.register("fixed", FixedViewSet)
    router.register("offsets", OffsetViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


APP = make_app()


@pytest.fixture
def client():
    with TestClient(APP) as client:
        yield client


@pytest.fixture
def companies():
    made = [CompanyFactory(name=f"C{number}", archived=number % 2 == 0) for number in range(1, 8)]
    for company in made:
        DepartmentFactory(company=company, name=f"{company.name}-a")
        DepartmentFactory(company=company, name=f"{company.name}-b")
    return made


def walk(client, url, key="results"):
    """Every page from ``url`` on, following ``next``."""
    pages = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def test_a_page_has_drfs_shape_and_absolute_links(client, companies):
    body = client.get("/companies", params={"page": 2}).json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 7
    assert [row["name"] for row in body["results"]] == ["C3", "C4"]
    assert body["next"] == "http://testserver/companies?page=3"
    assert body["previous"] == "http://testserver/companies"  # the first page has no ?page=
    assert body["results"][0]["departments"] == [
        {"id": body["results"][0]["departments"][0]["id"], "name": "C3-a"},
        {"id": body["results"][0]["departments"][1]["id"], "name": "C3-b"}]


def test_links_keep_filters_ordering_and_page_size(client, companies):
    pages = walk(client, "/companies?archived=false&order_by=-name&page_size=1")
    assert [row["name"] for page in pages for row in page["results"]] == ["C7", "C5", "C3", "C1"]
    assert [page["count"] for page in pages] == [4] * 4
    assert pages[1]["next"] == "http://testserver/companies?archived=false&order_by=-name&page_size=1&page=3"
    assert pages[1]["previous"] == "http://testserver/companies?archived=false&order_by=-name&page_size=1"
    assert pages[0]["previous"] is None and pages[-1]["next"] is None


def test_a_nested_list_pages_under_its_parent(client, companies):
    parent = companies[0].pk
    body = client.get(f"/companies/{parent}/departments", params={"page_size": 1}).json()
    assert body["count"] == 2 and [row["name"] for row in body["results"]] == ["C1-a"]
    assert body["next"] == f"http://testserver/companies/{parent}/departments?page_size=1&page=2"
    assert client.get(body["next"]).json()["results"][0]["name"] == "C1-b"


def test_links_keep_the_root_path(companies):
    with TestClient(APP, root_path="/api") as client:
        body = client.get("/api/companies").json()
    assert body["next"] == "http://testserver/api/companies?page=2"


def test_a_page_past_the_end_is_a_404_but_an_empty_first_page_is_not(client, companies):
    for page in (5, 10**30):
        response = client.get("/companies", params={"page": page})
        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})
    models.Company.objects.all().delete()
    assert client.get("/companies").json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("params", "name"), [
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page": "two"}, "page"), ({"page": "1.5"}, "page"),
    ({"page_size": 0}, "page_size"), ({"page_size": "x"}, "page_size")])
def test_a_bad_page_or_size_is_a_422_naming_it(client, companies, params, name):
    response = client.get("/companies", params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", name]]


def test_page_size_is_capped_and_can_be_fixed(client, companies):
    body = client.get("/companies", params={"page_size": 100}).json()
    assert len(body["results"]) == 3 and body["next"].endswith("?page_size=100&page=2")
    assert len(client.get("/fixed").json()["results"]) == 2
    response = client.get("/fixed", params={"page_size": 3})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "page_size"]


@pytest.fixture
def instances_made():
    made: list[Any] = []

    def count(sender, **kwargs):
        made.append(sender)

    post_init.connect(count, weak=False)
    yield made
    post_init.disconnect(count)


def test_pages_read_values_and_count_without_joins(client, companies, query_log, instances_made):
    assert CompanyViewSet.declared_read_path("list") == "values"
    response = client.get("/companies", params={"archived": "false", "page": 2})
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    assert instances_made == []
    counts = [sql for _, sql in query_log if "COUNT(" in sql.upper()]
    assert len(counts) == 1 and "JOIN" not in counts[0].upper()
    assert len(query_log) == 3  # the count, the page, its departments


def test_limit_offset_pages_link_to_their_neighbours(client, companies):
    pages = walk(client, "/offsets?archived=true&order_by=-name&limit=2")
    assert [row["name"] for page in pages for row in page["items"]] == ["C6", "C4", "C2"]
    assert pages[0]["next"] == "http://testserver/offsets?archived=true&order_by=-name&limit=2&offset=2"
    assert pages[1]["previous"] == "http://testserver/offsets?archived=true&order_by=-name&limit=2"
    assert [page["total"] for page in pages] == [3, 3]
    middle = client.get("/offsets", params={"limit": 2, "offset": 3}).json()
    assert middle["previous"] == "http://testserver/offsets?limit=2&offset=1"


def test_openapi_shows_the_page_and_its_parameters():
    spec = APP.openapi()
    operation = spec["paths"]["/companies"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = spec["components"]["schemas"][ref.rpartition("/")[2]]
    assert page["title"] == "CompanyOutNumberedPage"
    assert list(page["properties"]) == ["count", "next", "previous", "results"]
    assert set(page["required"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["items"]["$ref"].endswith("/CompanyOut")
    parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
    assert parameters["page"]["minimum"] == 1 and parameters["page_size"]["default"] == 2
    fixed = spec["paths"]["/fixed"]["get"]["parameters"]
    assert "page_size" not in {parameter["name"] for parameter in fixed}


class PlainViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut)
    tenant_field = None
    ordering = ["name"]


class OwnLimitOffset(PlainViewSet):
    pagination_class = LimitOffsetPagination


class Unpaged(PlainViewSet):
    pagination_class = None


def test_the_project_default_applies_where_a_viewset_sets_none(settings, companies):
    settings.DJFAPI = {"DEFAULT_PAGINATION_CLASS": "djfapi.pagination.PageNumberPagination", "PAGE_SIZE": 3}
    router = Router()
    for prefix, viewset in (("plain", PlainViewSet), ("own", OwnLimitOffset), ("unpaged", Unpaged)):
        router.register(prefix, type(viewset.__name__, (viewset,), {}))
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        plain, own, unpaged = (client.get(path).json() for path in ("/plain", "/own", "/unpaged"))
    assert (plain["count"], len(plain["results"]), plain["next"]) == (7, 3, "http://testserver/plain?page=2")
    assert (own["total"], own["limit"], len(own["items"])) == (7, 3, 3)  # its own class, the project's size
    assert list(unpaged) == ["items"] and len(unpaged["items"]) == 7


@pytest.mark.parametrize("size", [0, -5, "20", 2.5, True])
def test_a_page_size_that_is_not_a_positive_int_is_refused_at_registration(settings, size):
    settings.DJFAPI = {"DEFAULT_PAGINATION_CLASS": "djfapi.pagination.PageNumberPagination",
                       "PAGE_SIZE": size}
    with pytest.raises(ImproperlyConfigured, match=r'DJFAPI\["PAGE_SIZE"\]'):
        Router().register("plain", type("PlainViewSet", (PlainViewSet,), {}))


class Envelope(PageNumberPagination):
    def get_paginated_response(self, items):
        return {"data": items, "meta": {"count": self.count, "page": self.page}}


def test_a_page_shape_without_its_schema_is_refused_at_registration():
    viewset = type("EnvelopedViewSet", (PlainViewSet,), {"pagination_class": Envelope})
    with pytest.raises(ImproperlyConfigured, match=r"Envelope .*EnvelopedViewSet.*response_schema\(\)"):
        Router().register("enveloped", viewset)


class Meta(BaseModel):
    count: int
    page: int


class DeclaredEnvelope(Envelope):
    @classmethod
    def response_schema(cls, item):
        return type(f"{item.__name__}Envelope", (BaseModel,), {
            "__annotations__": {"data": list[item], "meta": Meta}})


def test_a_page_shape_with_its_schema_is_answered_whole(companies):
    router = Router()
    viewset = type("DeclaredViewSet", (PlainViewSet,), {"pagination_class": DeclaredEnvelope})
    router.register("enveloped", viewset)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        body = client.get("/enveloped", params={"page": 2, "page_size": 5}).json()
    assert body["meta"] == {"count": 7, "page": 2}
    assert [row["name"] for row in body["data"]] == ["C6", "C7"]


def test_links_are_built_only_for_allowed_hosts(client, companies, settings):
    """A forged Host header never becomes a link (a shared cache would hand it to others)."""
    forged = client.get("/companies", params={"page": 1}, headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "Invalid Host header 'evil.example'" in forged.json()["detail"]
    assert "ALLOWED_HOSTS" in forged.json()["detail"]
    settings.ALLOWED_HOSTS = [".example.com"]
    served = client.get("/companies", params={"page": 1}, headers={"Host": "api.example.com"})
    assert served.status_code == 200
    assert served.json()["next"].startswith("http://api.example.com/companies?")
    assert client.get("/offsets", params={"limit": 1}, headers={"Host": "evil.example"}).status_code == 400


def test_openapi_lists_the_404_of_a_page_past_the_last():
    paths = APP.openapi()["paths"]
    assert paths["/companies"]["get"]["responses"]["404"]["description"] == "Invalid page: past the last one"
    assert "404" in paths["/fixed"]["get"]["responses"]
    assert "404" not in paths["/offsets"]["get"]["responses"]  # an offset past the end is an empty page
