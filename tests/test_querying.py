"""Lists: every filter lookup, negation, ordering, search, cursor pagination, aggregation,
soft delete and cache control — declared on a viewset, typed, documented."""

import datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.pagination import CursorPagination
from djfapi.testing import Client
from tests.testapp import models, secured
from tests.testapp.factories import CompanyFactory, CostcenterFactory


class CostcenterOut(BaseModel):
    id: int
    code: str
    kind: str
    budget: Decimal
    starts_on: datetime.date | None
    status: str


class CostcenterIn(BaseModel):
    code: str
    company_id: int


class CostcenterViewSet(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut, create=CostcenterIn)
    security = secured.token  # a valid token; tenancy reaches the rows through company__tenant_id
    filter_fields = ["code", "kind", "budget", "starts_on", "updated_at", "company", "company__name"]
    search_fields = ["code", "company__name"]
    ordering_fields = ["code", "budget", "starts_on"]
    ordering = ["code"]
    aggregate_fields = ["id", "budget", "code", "starts_on"]
    aggregate_group_by = ["kind", "company", "starts_on__year"]
    delete_status = "deleted"
    cache_control = "private, max-age=60"


class CursorCostcenterViewSet(CostcenterViewSet):
    pagination_class = CursorPagination
    ordering = []


def make_app() -> FastAPI:
    router = Router()
    router.register("costcenters", CostcenterViewSet)
    router.register("walk", CursorCostcenterViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


APP = make_app()


@pytest.fixture
def client():
    return Client(APP).authenticate([], tenant="tenant-a")


@pytest.fixture
def rows():
    acme = CompanyFactory(tenant_id="tenant-a", name="Acme Corp")
    beta = CompanyFactory(tenant_id="tenant-a", name="Beta Ltd")
    CostcenterFactory(company=CompanyFactory(tenant_id="tenant-b", name="Acme Elsewhere"), code="X9")
    return {
        "CC1": CostcenterFactory(company=acme, code="CC1", kind="opex", budget=Decimal("100.00"),
                                 starts_on=datetime.date(2025, 3, 1)),
        "CC2": CostcenterFactory(company=acme, code="CC2", kind="capex", budget=Decimal("250.50"),
                                 starts_on=datetime.date(2026, 7, 15)),
        "DD3": CostcenterFactory(company=beta, code="DD3", kind="opex", budget=Decimal("250.50"),
                                 starts_on=None),
    }


def codes(response):
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"code": "CC1"}, ["CC1"]),
        ({"code__in": ["CC1", "DD3"]}, ["CC1", "DD3"]),
        ({"kind": "capex"}, ["CC2"]),
        ({"kind__in": ["opex"]}, ["CC1", "DD3"]),
        ({"budget__gt": "100"}, ["CC2", "DD3"]),
        ({"budget__gte": "250.50"}, ["CC2", "DD3"]),
        ({"budget__lt": "250.5"}, ["CC1"]),
        ({"budget__lte": "100.00"}, ["CC1"]),
        ({"starts_on__gte": "2026-01-01"}, ["CC2"]),
        ({"starts_on__lt": "2026-01-01"}, ["CC1"]),
        ({"starts_on__year": 2025}, ["CC1"]),
        ({"starts_on__month": 7}, ["CC2"]),
        ({"starts_on__day": 1}, ["CC1"]),
        ({"starts_on__isnull": True}, ["DD3"]),
        ({"starts_on__isnull": False}, ["CC1", "CC2"]),
        ({"code__icontains": "c2"}, ["CC2"]),
        ({"code__istartswith": "dd"}, ["DD3"]),
        ({"company__name": "Beta Ltd"}, ["DD3"]),
        ({"company__name__icontains": "acme"}, ["CC1", "CC2"]),
        ({"updated_at__year": datetime.date.today().year}, ["CC1", "CC2", "DD3"]),
        ({"!code": "CC1"}, ["CC2", "DD3"]),
        ({"!kind__in": ["opex"]}, ["CC2"]),
        ({"!code__icontains": "cc"}, ["DD3"]),
        ({"!budget__gt": "100"}, ["CC1"]),
        ({"kind": "opex", "!company__name": "Beta Ltd"}, ["CC1"]),
    ],
)
def test_filters(client, rows, params, expected):
    assert codes(client.get("/costcenters", params=params)) == expected


def test_filter_by_foreign_key_id(client, rows):
    company_id = rows["DD3"].company_id
    assert codes(client.get("/costcenters", params={"company": company_id})) == ["DD3"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"budget__gt": "lots"}, "budget__gt"), ({"starts_on": "soon"}, "starts_on"),
     ({"kind": "bogus"}, "kind"), ({"starts_on__year": "MMXXV"}, "starts_on__year"),
     ({"!budget__lt": "x"}, "!budget__lt"),
     # what pydantic would read but the documented pattern and format do not promise
     ({"budget": ""}, "budget"), ({"budget__gt": "1e3"}, "budget__gt"), ({"budget": "1_0"}, "budget"),
     ({"budget__in": ["1", "Infinity"]}, "budget__in"), ({"starts_on": "0"}, "starts_on"),
     ({"updated_at__lte": "0.5"}, "updated_at__lte"), ({"updated_at__in": ["1700000000"]}, "updated_at__in")],
)
def test_a_value_of_the_wrong_type_is_422_naming_the_parameter(client, rows, params, parameter):
    response = client.get("/costcenters", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["query", parameter]


def test_ordering(client, rows):
    assert codes(client.get("/costcenters")) == ["CC1", "CC2", "DD3"]  # `ordering`
    assert codes(client.get("/costcenters", params={"order_by": "-code"})) == ["DD3", "CC2", "CC1"]
    # equal budgets: the next order_by decides, then the primary key
    by_budget_then_code = client.get("/costcenters", params={"order_by": ["-budget", "-code"]})
    assert codes(by_budget_then_code) == ["DD3", "CC2", "CC1"]
    assert codes(client.get("/costcenters", params={"order_by": ["-budget"]})) == ["DD3", "CC2", "CC1"]
    assert codes(client.get("/costcenters", params={"order_by": ["budget"]})) == ["CC1", "CC2", "DD3"]


def test_ordering_by_a_field_not_allowed_is_422_listing_the_allowed(client, rows):
    response = client.get("/costcenters", params={"order_by": "meta"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "order_by", 0]
    for allowed in ("'code'", "'-code'", "'budget'", "'-starts_on'"):
        assert allowed in error["msg"]


def test_search_matches_every_word_across_the_fields(client, rows):
    assert codes(client.get("/costcenters", params={"search": "acme"})) == ["CC1", "CC2"]
    assert codes(client.get("/costcenters", params={"search": "ACME cc2"})) == ["CC2"]
    assert codes(client.get("/costcenters", params={"search": "beta cc2"})) == []
    assert codes(client.get("/costcenters", params={"search": "dd"})) == ["DD3"]


def test_the_list_operation_documents_every_parameter_with_its_type():
    parameters = {p["name"]: p["schema"] for p in
                  APP.openapi()["paths"]["/costcenters"]["get"]["parameters"]}
    assert parameters["code"]["anyOf"][0]["type"] == "string"
    assert parameters["code__not"]["anyOf"][0]["type"] == "string"
    assert "!code" not in parameters  # accepted all the same, for 0.0.x clients
    assert parameters["kind"]["anyOf"][0]["enum"] == ["opex", "capex"]
    assert parameters["kind__in"]["anyOf"][0]["type"] == "array"
    assert parameters["starts_on__gte"]["anyOf"][0]["format"] == "date"
    assert parameters["updated_at__lt"]["anyOf"][0]["format"] == "date-time"
    assert parameters["updated_at__lt"]["anyOf"][0]["pattern"].endswith("(?:0[0-9]|1[0-5]):[0-5][0-9])$")
    assert parameters["budget__lte"]["anyOf"][0] == {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    assert parameters["budget__in"]["anyOf"][0]["items"]["pattern"] == r"^-?[0-9]+(\.[0-9]+)?$"
    assert parameters["starts_on__year"]["anyOf"][0]["type"] == "integer"
    assert parameters["starts_on__isnull"]["anyOf"][0]["type"] == "boolean"
    assert parameters["company"]["anyOf"][0]["type"] == "integer"
    assert parameters["search"]["anyOf"][0]["type"] == "string"
    assert parameters["order_by"]["anyOf"][0]["items"]["$ref"].endswith("CostcenterOrdering")
    assert (parameters["limit"]["type"], parameters["offset"]["type"]) == ("integer", "integer")
    assert "code__gt" not in parameters  # text gets no range lookups
    assert "kind__icontains" not in parameters  # choices only exact and in
    assert "code__isnull" not in parameters  # not nullable


# -- cursor pagination --------------------------------------------------------------------------

def test_a_cursor_walk_sees_every_row_exactly_once_while_rows_are_inserted(client, query_log):
    company = CompanyFactory(tenant_id="tenant-a")
    models.Costcenter.objects.bulk_create(
        models.Costcenter(company=company, code=f"R{i:04}") for i in range(1000))
    original = set(models.Costcenter.objects.values_list("id", flat=True))
    seen: list[int] = []
    params = {"page_size": 100}
    query_log.clear()
    for page in range(20):
        body = client.get("/walk", params=params).json()
        seen.extend(item["id"] for item in body["items"])
        models.Costcenter.objects.create(company=company, code=f"NEW{page}")  # between pages
        if body["next"] is None:
            break
        params = {"page_size": 100, "cursor": body["next"]}
    assert len(seen) == len(set(seen))  # nothing twice
    assert original <= set(seen)  # every row that was there
    assert not any("COUNT(" in sql.upper() for _, sql in query_log)


def test_previous_goes_back_a_page(client):
    company = CompanyFactory(tenant_id="tenant-a")
    for i in range(7):
        CostcenterFactory(company=company, code=f"P{i}")
    first = client.get("/walk", params={"page_size": 3}).json()
    assert first["previous"] is None
    second = client.get("/walk", params={"page_size": 3, "cursor": first["next"]}).json()
    back = client.get("/walk", params={"page_size": 3, "cursor": second["previous"]}).json()
    assert [i["code"] for i in back["items"]] == [i["code"] for i in first["items"]]
    assert back["previous"] is None and back["next"] is not None
    third = client.get("/walk", params={"page_size": 3, "cursor": second["next"]}).json()
    assert [i["code"] for i in third["items"]] == ["P6"] and third["next"] is None


def test_cursor_follows_a_requested_ordering(client, rows):
    first = client.get("/walk", params={"page_size": 2, "order_by": "-budget"}).json()
    rest = client.get("/walk", params={"page_size": 2, "order_by": "-budget",
                                       "cursor": first["next"]}).json()
    assert [i["code"] for i in first["items"] + rest["items"]] == ["DD3", "CC2", "CC1"]


def test_a_cursor_of_another_ordering_is_422_not_a_500(client, rows):
    by_budget = client.get("/walk", params={"page_size": 1, "order_by": "-budget"}).json()["next"]
    for ordering in ("code", "-code", None):  # a decimal where a text is expected, and back
        params = {"cursor": by_budget, **({"order_by": ordering} if ordering else {})}
        response = client.get("/walk", params=params)
        assert response.status_code == 422, response.text
        assert "another order" in response.json()["detail"][0]["msg"]
    by_code = client.get("/walk", params={"page_size": 1, "order_by": "code"}).json()["next"]
    assert client.get("/walk", params={"cursor": by_code, "order_by": "-budget"}).status_code == 422


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjpbMV0sInIiOmZhbHNlfQ", None])
def test_a_tampered_cursor_is_422(client, rows, cursor):
    if cursor is None:  # a real cursor with one character changed
        real = client.get("/walk", params={"page_size": 1}).json()["next"]
        cursor = real[:-3] + ("A" if real[-3] != "A" else "B") + real[-2:]
    response = client.get("/walk", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


# -- aggregation --------------------------------------------------------------------------------

def values(response, numeric=False):
    """The aggregate's values; ``numeric`` compares decimals by value (an average has as many
    places as the database gives it)."""
    assert response.status_code == 200, response.text
    rows = response.json()["values"]
    if numeric:
        for row in rows:
            row["value"] = Decimal(row["value"]).quantize(Decimal("0.01"))
    return rows


def test_aggregates_without_grouping(client, rows):
    assert values(client.get("/costcenters/aggregate/count/id")) == [{"value": 3}]
    assert values(client.get("/costcenters/aggregate/count/budget")) == [{"value": 3}]  # not "3.00"
    # a sum, min or max of decimals is written as the column stores them, on every database
    assert values(client.get("/costcenters/aggregate/sum/budget")) == [{"value": "601.00"}]
    assert values(client.get("/costcenters/aggregate/max/budget")) == [{"value": "250.50"}]
    assert values(client.get("/costcenters/aggregate/avg/budget"), True) == [{"value": Decimal("200.33")}]
    assert values(client.get("/costcenters/aggregate/min/starts_on")) == [{"value": "2025-03-01"}]
    assert values(client.get("/costcenters/aggregate/max/code")) == [{"value": "DD3"}]


def test_aggregates_grouped(client, rows):
    assert values(client.get("/costcenters/aggregate/count/id", params={"group_by": "kind"})) == [
        {"kind": "capex", "value": 1}, {"kind": "opex", "value": 2}]
    acme, beta = rows["CC1"].company_id, rows["DD3"].company_id
    grouped = values(client.get("/costcenters/aggregate/sum/budget",
                                params={"group_by": ["company", "kind"]}))
    assert grouped == [{"company": acme, "kind": "capex", "value": "250.50"},
                       {"company": acme, "kind": "opex", "value": "100.00"},
                       {"company": beta, "kind": "opex", "value": "250.50"}]
    by_year = values(client.get("/costcenters/aggregate/count/id", params={"group_by": "starts_on__year"}))
    assert sorted(by_year, key=lambda v: v["starts_on__year"] or 0) == [
        {"starts_on__year": None, "value": 1}, {"starts_on__year": 2025, "value": 1},
        {"starts_on__year": 2026, "value": 1}]


def test_aggregates_honour_filters_and_tenancy(client, rows):
    assert values(client.get("/costcenters/aggregate/count/id", params={"kind": "opex"})) == [{"value": 2}]
    client.authenticate([], tenant="tenant-b")
    assert values(client.get("/costcenters/aggregate/count/id")) == [{"value": 1}]


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [("/costcenters/aggregate/sum/code", {}, ["path", "function"]),
     ("/costcenters/aggregate/median/budget", {}, ["path", "function"]),
     ("/costcenters/aggregate/count/meta", {}, ["path", "field"]),
     ("/costcenters/aggregate/count/id", {"group_by": "code"}, ["query", "group_by", 0])],
)
def test_an_aggregate_that_cannot_be_done_is_422(client, rows, path, params, loc):
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


# -- soft delete and cache control ----------------------------------------------------------------

def test_soft_delete_sets_the_status_and_lists_leave_the_row_out(client, rows):
    target = rows["CC2"]
    assert client.delete(f"/costcenters/{target.id}").status_code == 204
    target.refresh_from_db()
    assert target.status == "deleted"  # still stored
    assert codes(client.get("/costcenters")) == ["CC1", "DD3"]
    assert codes(client.get("/costcenters", params={"status": "deleted"})) == ["CC2"]
    assert values(client.get("/costcenters/aggregate/count/id")) == [{"value": 2}]


def test_cache_control_is_set_on_reads_only(client, rows):
    assert client.get("/costcenters").headers["Cache-Control"] == "private, max-age=60"
    assert client.get(f"/costcenters/{rows['CC1'].id}").headers["Cache-Control"] == "private, max-age=60"
    assert client.get("/costcenters/aggregate/count/id").headers["Cache-Control"] == "private, max-age=60"
    created = client.post("/costcenters", json={"code": "NEW", "company_id": rows["CC1"].company_id})
    assert created.status_code == 201
    assert "Cache-Control" not in created.headers


def test_answers_to_a_token_vary_by_it_so_no_shared_cache_mixes_callers(client, rows):
    listed = client.get("/costcenters")
    assert listed.headers["Vary"] == "Authorization"
    one = client.get(f"/costcenters/{rows['CC1'].id}")
    assert one.headers["Vary"] == "Authorization"
    again = client.get(f"/costcenters/{rows['CC1'].id}", headers={"If-None-Match": one.headers["ETag"]})
    assert (again.status_code, again.headers["Vary"]) == (304, "Authorization")
    assert client.head("/costcenters").headers["Vary"] == "Authorization"


# -- replacing the filters ----------------------------------------------------------------------

def test_a_django_filter_filterset_can_replace_the_filters(rows):
    import django_filters

    class BudgetFilter(django_filters.FilterSet):
        min_budget = django_filters.NumberFilter(field_name="budget", lookup_expr="gte")

        class Meta:
            model = models.Costcenter
            fields = ["kind"]

    class Filtered(CostcenterViewSet):
        filterset_class = BudgetFilter

    router = Router()
    router.register("costcenters", Filtered)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate([], tenant="tenant-a")
    assert codes(client.get("/costcenters", params={"min_budget": "200", "kind": "opex"})) == ["DD3"]
    bad = client.get("/costcenters", params={"min_budget": "lots"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "min_budget"]
    names = {p["name"] for p in app.openapi()["paths"]["/costcenters"]["get"]["parameters"]}
    assert {"min_budget", "kind"} <= names


def test_django_filter_range_filters_read_their_suffixed_parameters(rows):
    import django_filters

    class RangeFilter(django_filters.FilterSet):
        budget = django_filters.RangeFilter()
        starts = django_filters.DateFromToRangeFilter(field_name="starts_on")

        class Meta:
            model = models.Costcenter
            fields = []

    class Filtered(CostcenterViewSet):
        filterset_class = RangeFilter

    router = Router()
    router.register("costcenters", Filtered)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate([], tenant="tenant-a")
    assert codes(client.get("/costcenters", params={"budget_min": "200"})) == ["CC2", "DD3"]
    assert codes(client.get("/costcenters", params={"starts_after": "2026-01-01"})) == ["CC2"]
    assert client.get("/costcenters", params={"budget_minimum": "200"}).status_code == 422
