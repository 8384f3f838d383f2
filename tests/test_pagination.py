"""Limit/offset pages with ``total`` (one COUNT query a page) and, with ``count = False``,
without it: one row more is read and ``more`` says whether rows follow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.pagination import LimitOffsetPagination
from djfapi.testing import Client
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, CostcenterFactory


class UncountedPagination(LimitOffsetPagination):
    count = False


class CostcenterOut(BaseModel):
    id: int
    code: str


class CountedViewSet(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut)
    ordering = ["code"]


class UncountedViewSet(CountedViewSet):
    pagination_class = UncountedPagination


def make_app() -> FastAPI:
    router = Router()
    router.register("counted", CountedViewSet)
    router.register("uncounted", UncountedViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


APP = make_app()


@pytest.fixture
def client():
    return Client(APP)


@pytest.fixture
def five():
    company = CompanyFactory()
    for code in ("A1", "A2", "A3", "A4", "A5"):
        CostcenterFactory(company=company, code=code)


def page(client, path, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json(), [query["sql"] for query in queries]


def codes(body):
    return [item["code"] for item in body["items"]]


@pytest.mark.parametrize(("offset", "expected", "more"), [
    (0, ["A1", "A2"], True), (2, ["A3", "A4"], True), (3, ["A4", "A5"], False),
    (4, ["A5"], False), (5, [], False), (50, [], False)])
def test_an_uncounted_page_says_whether_more_rows_follow_and_runs_no_count(
        client, five, offset, expected, more):
    body, queries = page(client, "/uncounted", limit=2, offset=offset)
    assert body == {"items": body["items"], "limit": 2, "offset": offset, "more": more,
                    "next": body["next"], "previous": body["previous"]}
    assert (body["next"] is not None) == more
    assert codes(body) == expected
    assert not any("COUNT(" in sql.upper() for sql in queries)
    assert len(queries) == 1  # the page and the row after it, in one query


def test_the_default_page_counts(client, five):
    body, queries = page(client, "/counted", limit=2, offset=4)
    assert body == {"items": body["items"], "total": 5, "limit": 2, "offset": 4,
                    "next": None, "previous": "http://testserver/counted?limit=2&offset=2"}
    assert codes(body) == ["A5"]
    assert sum("COUNT(" in sql.upper() for sql in queries) == 1


def test_openapi_shows_each_page_as_it_is_answered():
    spec = APP.openapi()
    schemas = spec["components"]["schemas"]

    def page_schema(path):
        response = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        return schemas[response["schema"]["$ref"].rpartition("/")[2]]

    counted, uncounted = page_schema("/counted"), page_schema("/uncounted")
    assert counted["title"] == "CostcenterOutPage"
    assert set(counted["properties"]) == set(counted["required"]) == {"items", "total", "limit", "offset",
                                                                           "next", "previous"}
    assert uncounted["title"] == "CostcenterOutUncountedPage"
    assert set(uncounted["properties"]) == set(uncounted["required"]) == {"items", "limit", "offset", "more",
                                                                               "next", "previous"}
    assert uncounted["properties"]["more"]["type"] == "boolean"
