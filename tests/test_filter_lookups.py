"""The lookups a DRF user writes (``iexact``, ``contains``, ``range``, ``week_day``, ...), the
``__not`` negation generated clients can call, ``?ordering=``, and a django-filter FilterSet's
declared filters and OrderingFilter, typed in OpenAPI."""

import django_filters
import pytest
from fastapi import FastAPI

from djfapi import Router
from djfapi.testing import Client
from tests.test_querying import APP, CostcenterViewSet, client, codes, rows  # noqa: F401
from tests.testapp import models

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"code__iexact": "cc1"}, ["CC1"]),
        ({"code__contains": "C2"}, ["CC2"]),
        ({"code__contains": "c2"}, []),  # case-sensitive, on SQLite too
        ({"code__startswith": "dd"}, []),
        ({"code__endswith": "d3"}, []),
        ({"code__contains": ""}, ["CC1", "CC2", "DD3"]),
        ({"code__contains__not": "C"}, ["DD3"]),
        ({"code__startswith": "DD"}, ["DD3"]),
        ({"code__endswith": "1"}, ["CC1"]),
        ({"code__iendswith": "d3"}, ["DD3"]),
        ({"company__name__startswith": "Beta"}, ["DD3"]),
        ({"budget__range": "100,200"}, ["CC1"]),
        ({"budget__range": ["200", "300"]}, ["CC2", "DD3"]),
        ({"starts_on__range": "2025-01-01,2025-12-31"}, ["CC1"]),
        ({"starts_on__week_day": 7}, ["CC1"]),  # 2025-03-01 was a Saturday
        ({"starts_on__quarter": 3}, ["CC2"]),
        ({"code__not": "CC1"}, ["CC2", "DD3"]),
        ({"code__icontains__not": "cc"}, ["DD3"]),
        ({"budget__range__not": "100,200"}, ["CC2", "DD3"]),
        ({"!code": "CC1"}, ["CC2", "DD3"]),  # the 0.0.x spelling still works
    ],
)
def test_lookups(client, rows, params, expected):  # noqa: F811
    assert codes(client.get("/costcenters", params=params)) == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"budget__range": "100"}, "budget__range"),
        ({"budget__range": "1,2,3"}, "budget__range"),
        ({"budget__range": "1,lots"}, "budget__range"),
        ({"starts_on__range": "2025-01-01,soon"}, "starts_on__range"),
        ({"starts_on__week_day": 8}, "starts_on__week_day"),
        ({"starts_on__quarter": 0}, "starts_on__quarter"),
        ({"code__not": ["a", "b"]}, "code__not"),
    ],
)
def test_bad_lookup_values_are_422_naming_the_parameter(client, rows, params, parameter):  # noqa: F811
    response = client.get("/costcenters", params=params)
    assert response.status_code == 422, response.text
    assert ["query", parameter] in [error["loc"][:2] for error in response.json()["detail"]]


@pytest.mark.parametrize("name", ["budget__contains", "code__week_day", "kind__startswith",
                                  "code__range", "starts_on__iexact", "code__nott", "code__not__in",
                                  "cod__not", "code__isnull__not"])
def test_lookups_a_field_does_not_have_are_rejected(client, rows, name):  # noqa: F811
    response = client.get("/costcenters", params={name: "1"})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", name]
    # it lists what /docs shows, not the spellings kept for old clients
    assert "code__not," in error["msg"] and "!code" not in error["msg"] and "__in__not" not in error["msg"]


def test_openapi_shows_each_lookup_once_and_one_negation_a_field():
    parameters = {p["name"]: p for p in APP.openapi()["paths"]["/costcenters"]["get"]["parameters"]}
    code = [name for name in parameters if name.split("__")[0] == "code"]
    assert code == ["code", "code__not", "code__in", "code__iexact", "code__contains", "code__icontains",
                    "code__startswith", "code__istartswith", "code__endswith", "code__iendswith"]
    assert not [name for name in parameters if name.startswith("!") or "ordering" in name]
    budget_range = parameters["budget__range"]["schema"]["anyOf"][0]
    assert (budget_range["type"], budget_range["minItems"], budget_range["maxItems"]) == ("array", 2, 2)
    assert "starts_on__week_day" in parameters and "updated_at__quarter" in parameters


def test_drf_ordering_reads_as_order_by(client, rows):  # noqa: F811
    assert codes(client.get("/costcenters", params={"ordering": "-budget"})) == ["DD3", "CC2", "CC1"]
    assert codes(client.get("/costcenters", params={"ordering": "-budget,-code"})) == ["DD3", "CC2", "CC1"]
    assert codes(client.get("/costcenters", params={"ordering": "budget,-code"})) == ["CC1", "DD3", "CC2"]
    assert client.get("/costcenters", params={"ordering": "status"}).status_code == 422
    both = client.get("/costcenters", params={"ordering": "code", "order_by": "code"})
    assert both.status_code == 422
    assert both.json()["detail"][0]["loc"] == ["query", "ordering"]


class StaffFilter(django_filters.FilterSet):
    starts_after = django_filters.DateFilter(field_name="starts_on", lookup_expr="gt")
    min_budget = django_filters.NumberFilter(field_name="budget", lookup_expr="gte")
    codes = django_filters.BaseInFilter(field_name="code")
    planned = django_filters.BooleanFilter(field_name="starts_on", lookup_expr="isnull", exclude=True)
    ordering = django_filters.OrderingFilter(fields=["budget", "code"])

    class Meta:
        model = models.Costcenter
        fields = ["kind"]


@pytest.fixture
def filtered():
    class Filtered(CostcenterViewSet):
        filterset_class = StaffFilter

    router = Router()
    router.register("costcenters", Filtered)
    app = FastAPI()
    app.include_router(router)
    return app, Client(app).authenticate([], tenant="tenant-a")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"starts_after": "2025-06-01"}, ["CC2"]),
        ({"min_budget": "200", "kind": "opex"}, ["DD3"]),
        ({"codes": "CC1,DD3"}, ["CC1", "DD3"]),
        ({"planned": "true"}, ["CC1", "CC2"]),
        ({"planned": "false"}, ["DD3"]),
        ({"ordering": "-budget,code"}, ["CC2", "DD3", "CC1"]),
        ({"ordering": "-code"}, ["DD3", "CC2", "CC1"]),
        ({"ordering": "-code", "order_by": "budget"}, ["CC1", "CC2", "DD3"]),  # order_by wins
    ],
)
def test_django_filter_declared_filters_and_ordering(filtered, rows, params, expected):  # noqa: F811
    assert codes(filtered[1].get("/costcenters", params=params)) == expected


@pytest.mark.parametrize(("params", "parameter"), [({"starts_after": "June"}, "starts_after"),
                                                   ({"planned": "perhaps"}, "planned"),
                                                   ({"kind": "other"}, "kind"),
                                                   ({"ordering": "status"}, "ordering"),
                                                   ({"start_after": "2025-01-01"}, "start_after")])
def test_django_filter_bad_values_are_422_naming_the_parameter(filtered, rows, params, parameter):  # noqa: F811
    response = filtered[1].get("/costcenters", params=params)
    assert response.status_code == 422, response.text
    assert parameter in response.text


def test_django_filter_parameters_have_their_real_types_in_openapi(filtered):
    parameters = {p["name"]: p["schema"]["anyOf"][0]
                  for p in filtered[0].openapi()["paths"]["/costcenters"]["get"]["parameters"]
                  if p["name"] not in ("limit", "offset")}
    assert parameters["starts_after"] == {"type": "string", "format": "date"}
    assert parameters["min_budget"]["type"] == "string" and "pattern" in parameters["min_budget"]
    assert parameters["planned"] == {"type": "boolean"}
    assert parameters["kind"]["enum"] == ["opex", "capex"]
    assert parameters["codes"]["type"] == "array"
    assert set(parameters["ordering"]["items"]["enum"]) == {"budget", "-budget", "code", "-code"}


def test_relations_offer_no_range_and_answer_every_lookup_they_offer():
    """Django has no ``range`` for a ForeignKey or a many-to-many field: it is not offered (a 422
    naming it), and every lookup that is offered answers (it was a 500)."""
    from pydantic import BaseModel

    from djfapi import ModelViewSet, Schemas

    class Row(BaseModel):
        id: int

    class Departments(ModelViewSet):
        model, schemas, tenant_field, filter_fields = models.Department, Schemas(get=Row), None, ["company"]

    class Companies(ModelViewSet):
        model, schemas, tenant_field = models.Company, Schemas(get=Row), None
        filter_fields = ["tags", "country"]

    router = Router()
    router.register("departments", Departments)
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    api = Client(app)
    company = models.Company.objects.create(tenant_id="t", name="Acme")
    department = models.Department.objects.create(company=company, name="Sales")
    company.tags.add(models.Tag.objects.create(tenant_id="t", label="x"))
    parameters = {path: {p["name"] for p in item["get"].get("parameters", [])}
                  for path, item in app.openapi()["paths"].items() if "get" in item}
    for path in ("/departments", "/companies"):
        names = parameters[path]
        assert not [name for name in names if "__range" in name]
        for name in names - {"limit", "offset", "order_by", "search"}:
            value = "true" if name.endswith("isnull") else "ES" if "country" in name else "1"
            response = api.get(path, params={name: value})
            assert response.status_code in (200, 422), (name, response.text)
    for path, name in [("/departments", "company__range"), ("/companies", "tags__range"),
                       ("/departments", "company__range__not")]:
        response = api.get(path, params={name: "1,2"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", name]
    listed = api.get("/departments", params={"company__lte": company.pk}).json()["items"]
    assert [row["id"] for row in listed] == [department.pk]
