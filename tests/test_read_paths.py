"""The two ways a list reads its rows: ``values()`` of the columns the response schema names
(the default where it can), or model instances with their related rows prefetched. Both
answer the same JSON, byte for byte; the values path makes no model instance and costs the
same queries at any page size."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db.models import Count, Prefetch, signals
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import CursorPagination
from djfapi.schemas import Field as OrmField
from tests.testapp import models


class CountryRef(BaseModel):
    code: str
    name: str


class TagOut(BaseModel):
    id: int
    label: str
    companies: list[int]  # a reverse many-to-many, as ids


class TeamOut(BaseModel):
    id: int
    name: str


class DepartmentOut(BaseModel):
    id: int
    name: str
    teams: list[TeamOut]


class CostcenterOut(BaseModel):
    code: str
    budget: Decimal
    starts_on: datetime.date | None
    meta: dict
    status: str


class CompanyTree(BaseModel):
    id: int
    name: str = Field(alias="fullName")  # answered as its alias, as OpenAPI shows it
    title: str = OrmField(orm_field=models.Company.name)  # another attribute's name
    archived: bool
    created_at: datetime.datetime
    country: CountryRef | None  # a ForeignKey with a text key, joined; NULL reads as null
    country_id: str | None
    tags: list[TagOut]  # a many-to-many, nested
    tag_ids: list[int] = OrmField(orm_field=models.Company.tags)  # ... and as ids
    departments: list[DepartmentOut]  # reverse ForeignKeys, two levels deep
    costcenters: list[CostcenterOut]  # a registered child: its soft delete applies
    department_total: int = 0  # an annotation get_queryset() adds


class CompanyRef(BaseModel):
    id: int
    name: str
    country: CountryRef | None


class DepartmentWithCompany(BaseModel):
    id: int
    name: str
    company_id: int
    company: CompanyRef  # a ForeignKey of a ForeignKey, joined twice
    teams: list[TeamOut]


class CompanyViewSet(ReadOnlyModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyTree)
    tenant_field = None
    filter_fields = ["name", "archived"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return super().get_queryset().annotate(department_total=Count("departments", distinct=True))


class CostcenterViewSet(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut)
    tenant_field = None
    delete_status = "deleted"


class DepartmentViewSet(ReadOnlyModelViewSet):
    model = models.Department
    schemas = Schemas(get=DepartmentWithCompany)
    tenant_field = None
    ordering_fields = ["name", "company__name"]
    pagination_class = CursorPagination


class TagViewSet(ReadOnlyModelViewSet):
    model = models.Tag
    schemas = Schemas(get=TagOut)
    tenant_field = None


def reading(read_rows: str, *viewsets: type) -> list[type]:
    return [type(f"{viewset.__name__}{read_rows.title()}", (viewset,), {"read_rows": read_rows})
            for viewset in viewsets]


def make_client(read_rows: str) -> TestClient:
    companies, costcenters, departments, tags = reading(
        read_rows, CompanyViewSet, CostcenterViewSet, DepartmentViewSet, TagViewSet)
    router = Router()
    router.register("companies", companies)
    router.register("costcenters", costcenters, parent=companies)
    router.register("departments", departments)
    router.register("tags", tags)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def clients():
    with make_client("auto") as values, make_client("instances") as instances:
        yield values, instances


def make_data(companies: int = 4) -> None:
    germany = models.Country.objects.create(code="DE", name="Germany")
    tags = models.Tag.objects.bulk_create([models.Tag(label=f"tag {n}") for n in range(3)])
    for n in range(companies):
        company = models.Company.objects.create(name=f"Company {n:03}", country=germany if n % 2 else None,
                                                archived=n % 3 == 0)
        company.tags.set(tags[: n % 4])
        for d in range(n % 3):
            department = models.Department.objects.create(company=company, name=f"Dept {d}")
            models.Team.objects.bulk_create([models.Team(department=department, name=f"Team {t}")
                                             for t in range(2)])
        models.Costcenter.objects.create(company=company, code="A", budget=Decimal("12.50"),
                                         meta={"n": n}, starts_on=datetime.date(2026, 1, n + 1))
        models.Costcenter.objects.create(company=company, code="B", status="deleted")


PAGES = [
    "/companies",
    "/companies?limit=2&offset=1",
    "/companies?order_by=-name",
    "/companies?archived=false&order_by=-created_at",
    "/departments",
    "/departments?order_by=company__name",
    "/tags",
]


@pytest.mark.parametrize("path", PAGES)
def test_both_paths_answer_the_same_bytes(clients, path):
    make_data()
    values, instances = clients
    fast, slow = values.get(path), instances.get(path)
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert fast.json()["items"]


def test_what_the_values_path_reads(clients):
    make_data()
    values, _ = clients
    body = values.get("/companies?name=Company 003").json()["items"]
    assert body == [{
        "id": body[0]["id"], "fullName": "Company 003", "title": "Company 003", "archived": True,
        "created_at": body[0]["created_at"],
        "country": {"code": "DE", "name": "Germany"}, "country_id": "DE",
        "tags": [{"id": tag.id, "label": tag.label,
                  "companies": list(tag.companies.values_list("id", flat=True))}
                 for tag in models.Tag.objects.order_by("id")[:3]],
        "tag_ids": list(models.Tag.objects.order_by("id").values_list("id", flat=True)),
        "departments": [], "department_total": 0,
        "costcenters": [{"code": "A", "budget": "12.50", "starts_on": "2026-01-04", "meta": {"n": 3},
                         "status": "active"}],  # B is soft-deleted: the child's list hides it
    }]
    assert values.get("/companies?name=Company 000").json()["items"][0]["country"] is None


def test_a_cursor_walk_sees_every_row_once_on_both_paths(clients):
    make_data(7)
    for client in clients:
        seen, url = [], "/departments?order_by=company__name&page_size=2"
        while url:
            page = client.get(url).json()
            seen += [row["id"] for row in page["items"]]
            url = page["next"] and f"/departments?order_by=company__name&page_size=2&cursor={page['next']}"
        assert sorted(seen) == sorted(models.Department.objects.values_list("id", flat=True))
        assert len(seen) == len(set(seen))


@pytest.fixture
def instances_made():
    made: list[type] = []

    def count(sender, **kwargs):
        made.append(sender)

    signals.post_init.connect(count)
    yield made
    signals.post_init.disconnect(count)


def test_the_values_path_makes_no_model_instance(clients, instances_made):
    make_data()
    values, instances = clients
    instances_made.clear()
    assert values.get("/companies").json()["items"]
    assert values.get("/departments").json()["items"]
    assert instances_made == []
    assert instances.get("/companies").json()["items"]
    assert models.Company in instances_made and models.Team in instances_made


def test_queries_are_the_same_at_page_sizes_1_50_and_500(clients, query_log):
    make_data(0)
    country, tag = models.Country.objects.get(), models.Tag.objects.first()
    companies = models.Company.objects.bulk_create(
        [models.Company(name=f"Bulk {n:04}", country=country) for n in range(500)])
    departments = models.Department.objects.bulk_create(
        [models.Department(company=company, name="D") for company in companies])
    models.Team.objects.bulk_create([models.Team(department=row, name="T") for row in departments])
    models.Costcenter.objects.bulk_create([models.Costcenter(company=row, code="C") for row in companies])
    tag.companies.set(companies)
    values, _ = clients
    counts = []
    for limit in (1, 50, 500):
        query_log.clear()
        assert len(values.get(f"/companies?limit={limit}").json()["items"]) == limit
        counts.append(len(query_log))
    # COUNT, companies (country joined), tags, their companies, tag ids, departments, teams, costcenters
    assert counts == [8, 8, 8]


class PropertyCompany(BaseModel):
    id: int
    display_name: str  # a property


class Method(BaseModel):
    id: int
    department_count: int = OrmField(orm_method=models.Company.department_count)


def viewset(schema: type[BaseModel], **attributes) -> type:
    declared = {"model": models.Company, "schemas": Schemas(get=schema), "tenant_field": None,
                "read_rows": "auto", **attributes}
    return type("Companies", (ReadOnlyModelViewSet,), declared)


def on_both_paths(schema: type[BaseModel], paths: list[str], **attributes) -> list[list[bytes]]:
    """The bodies of ``paths`` from a companies viewset of ``schema`` reading values, then instances."""
    found = []
    for read_rows in ("auto", "instances"):
        router = Router()
        router.register("companies", viewset(schema, read_rows=read_rows, **attributes))
        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            found.append([client.get(path).content for path in paths])
    return found


@pytest.mark.parametrize(("schema", "why"), [
    (PropertyCompany, "PropertyCompany.display_name reads Company.display_name, not a field"),
    (Method, "Method.department_count is read with orm_method"),
])
def test_a_schema_with_properties_or_methods_reads_instances(schema, why):
    assert viewset(schema).declared_read_path() == f"instances: {why}"
    assert viewset(CompanyRef).declared_read_path() == "values"
    with pytest.raises(ImproperlyConfigured, match=f"read_rows = 'values', but {why}"):
        Router().register("companies", viewset(schema, read_rows="values"))


def test_read_rows_must_be_one_of_three():
    with pytest.raises(ImproperlyConfigured, match="'fast': use one of 'auto', 'values', 'instances'"):
        Router().register("companies", viewset(CompanyRef, read_rows="fast"))


def test_a_hook_that_sees_the_rows_gets_instances(instances_made):
    def list(self):
        answer = super(type(self), self).list()
        answer["items"] = [company for company in answer["items"] if company.name.endswith("1")]
        return answer

    companies = viewset(CompanyRef, list=list)
    why = "list() is overridden (it may read the rows as instances)"
    assert companies.declared_read_path() == f"instances: {why}"
    router = Router()
    router.register("companies", companies)
    app = FastAPI()
    app.include_router(router)
    make_data()
    with TestClient(app) as client:
        assert [row["name"] for row in client.get("/companies").json()["items"]] == ["Company 001"]


def test_a_prefetch_to_an_attribute_reads_instances():
    class Named(BaseModel):
        id: int
        archived_tags: list[TagOut] = []

    def get_queryset(self):
        return super(type(self), self).get_queryset().prefetch_related(
            Prefetch("tags", models.Tag.objects.filter(label="tag 1"), to_attr="archived_tags"))

    router = Router()
    router.register("companies", viewset(Named, get_queryset=get_queryset))
    app = FastAPI()
    app.include_router(router)
    make_data()
    with TestClient(app) as client:
        rows = client.get("/companies?limit=3").json()["items"]
    assert [[tag["label"] for tag in row["archived_tags"]] for row in rows] == [[], [], ["tag 1"]]


def test_a_retrieve_reads_values_too(clients, instances_made):
    make_data()
    values, instances = clients
    company = models.Company.objects.get(name="Company 002")  # with departments, teams and tags
    department = models.Department.objects.filter(company=company).first()
    for path in (f"/companies/{company.id}", f"/departments/{department.id}", "/companies/999999",
                 "/companies/not-a-number", f"/companies/{2**70}"):
        fast, slow = values.get(path), instances.get(path)
        assert (fast.status_code, fast.content, fast.headers.get("etag")) == (
            slow.status_code, slow.content, slow.headers.get("etag"))
    instances_made.clear()
    assert values.get(f"/companies/{company.id}").json()["costcenters"][0]["code"] == "A"
    assert instances_made == []
    assert values.get("/companies/999999").json() == {"detail": "No company with company_id 999999."}


def test_a_retrieve_with_permission_classes_reads_the_instance():
    from djfapi.permissions import AllowAny

    assert viewset(CompanyRef).declared_read_path("retrieve") == "values"
    assert viewset(CompanyRef, permission_classes=[AllowAny]).declared_read_path("retrieve") == (
        "instances: permission_classes may check the row (has_object_permission)")
    assert viewset(CompanyRef, get_object=lambda self: None).declared_read_path("retrieve") == (
        "instances: get_object() is overridden (it may read the rows as instances)")


def test_a_prefetch_inside_a_prefetch_is_followed():
    """Teams filtered by the departments' own Prefetch queryset, two levels down, on both paths."""
    def get_queryset(self):  # DRF's way, without super(): djfapi adds no prefetch of its own
        teams = Prefetch("teams", models.Team.objects.filter(name="Team 1"))
        return models.Company.objects.prefetch_related(
            Prefetch("departments", models.Department.objects.prefetch_related(teams)))

    class Tree(BaseModel):
        id: int
        departments: list[DepartmentOut]

    make_data()
    fast, slow = on_both_paths(Tree, ["/companies"], get_queryset=get_queryset)
    assert fast == slow
    teams = [team["name"] for row in json.loads(fast[0])["items"] for department in row["departments"]
             for team in department["teams"]]
    assert set(teams) == {"Team 1"} and len(teams) == models.Department.objects.count()


def test_the_count_reads_no_join(query_log):
    """A nested ForeignKey object is joined for the page's rows only: COUNT(*) scans the list's
    own table."""
    class Departments(ReadOnlyModelViewSet):
        model = models.Department
        schemas = Schemas(get=DepartmentWithCompany)
        tenant_field = None
        read_rows = "auto"

    router = Router()
    router.register("departments", Departments)
    app = FastAPI()
    app.include_router(router)
    make_data()
    with TestClient(app) as client:
        assert client.get("/departments").json()["items"][0]["company"]["name"] == "Company 001"
    counts = [sql for _, sql in query_log if "COUNT(" in sql.upper()]
    pages = [sql for _, sql in query_log if "LIMIT" in sql.upper()]
    assert len(counts) == 1 and "JOIN" not in counts[0].upper()
    assert len(pages) == 1 and "JOIN" in pages[0].upper()


def test_an_alias_in_get_queryset_is_not_read():
    """``alias()`` names an expression to filter by, not a column to read: the field keeps its
    default on both paths."""
    def get_queryset(self):
        return super(type(self), self).get_queryset().alias(n=Count("departments")).filter(n__gte=0)

    class Counted(BaseModel):
        id: int
        n: int = -1

    make_data()
    first = models.Company.objects.order_by("id").first()
    fast, slow = on_both_paths(Counted, ["/companies", f"/companies/{first.id}"], get_queryset=get_queryset)
    assert fast == slow
    assert json.loads(fast[1])["n"] == -1


def test_aliases_are_answered_as_openapi_shows_them():
    class Aliased(BaseModel):
        id: int
        name: str = Field(alias="companyName")
        archived: bool = Field(validation_alias="archived", serialization_alias="isArchived")

    make_data()
    for answers in on_both_paths(Aliased, ["/companies", "/openapi.json"]):
        row = json.loads(answers[0])["items"][0]
        documented = json.loads(answers[1])["components"]["schemas"]["Aliased"]["properties"]
        assert set(row) == set(documented) == {"id", "companyName", "isArchived"}
        assert row["companyName"] == "Company 000" and row["isArchived"] is True
