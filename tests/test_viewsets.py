"""The model actions through HTTP: status codes, bodies, rows in the database, hooks."""

import pytest

from tests.testapp.factories import CompanyFactory, CountryFactory, DepartmentFactory
from tests.testapp.models import Company, Department


def test_list_answers_a_page_of_the_get_schema(client):
    companies = CompanyFactory.create_batch(3)
    response = client.get("/api/companies")
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {"id": c.id, "name": c.name, "archived": False, "created_by": ""} for c in companies
        ],
        "total": 3,
        "limit": 50,
        "offset": 0,
        "next": None,
        "previous": None,
    }


def test_create_saves_the_row_and_answers_201(client):
    response = client.post("/api/companies", json={"name": "Acme"}, headers={"X-User": "u1"})
    assert response.status_code == 201
    company = Company.objects.get()
    assert response.json() == {"id": company.id, "name": "Acme", "archived": False, "created_by": "u1"}
    assert company.tenant_id == "tenant-a"  # set by the perform_create hook


def test_create_does_not_take_server_owned_fields_from_the_body(client):
    response = client.post("/api/companies", json={"name": "Acme", "id": 999})
    assert response.status_code == 201
    assert response.json()["id"] != 999
    assert not Company.objects.filter(pk=999).exists()


def test_retrieve(client):
    company = CompanyFactory(name="Acme")
    response = client.get(f"/api/companies/{company.id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme"


def test_retrieve_missing_object_is_404_naming_it(client):
    response = client.get("/api/companies/4711")
    assert response.status_code == 404
    assert response.json() == {"detail": "No company with company_id 4711."}


def test_put_replaces_every_field_of_the_update_schema(client):
    company = CompanyFactory(name="Old", archived=True)
    response = client.put(f"/api/companies/{company.id}", json={"name": "New"})
    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.name, company.archived) == ("New", False)  # archived took its default


def test_put_needs_every_required_field(client):
    company = CompanyFactory(name="Old")
    response = client.put(f"/api/companies/{company.id}", json={"archived": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    company.refresh_from_db()
    assert company.name == "Old"


def test_patch_changes_only_the_fields_sent(client):
    company = CompanyFactory(name="Keep", archived=False)
    response = client.patch(f"/api/companies/{company.id}", json={"archived": True})
    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.name, company.archived) == ("Keep", True)


def test_patch_validates_what_is_sent(client):
    company = CompanyFactory(name="Keep")
    response = client.patch(f"/api/companies/{company.id}", json={"name": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_destroy_answers_204_and_deletes(client):
    company = CompanyFactory()
    response = client.delete(f"/api/companies/{company.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/countries"),
        ("put", "/api/countries/DE"),
        ("patch", "/api/countries/DE"),
        ("delete", "/api/countries/DE"),
    ],
)
def test_read_only_viewset_answers_405_for_writes(client, method, path):
    CountryFactory(code="DE")
    response = client.request(method, path, json={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_no_update_schema_means_no_put_or_patch(client, method):
    company = CompanyFactory()
    office = company.offices.create(city="Berlin")
    response = client.request(method, f"/api/companies/{company.id}/offices/{office.id}", json={})
    assert response.status_code == 405


def test_bad_body_is_422_before_any_query(client, query_log):
    response = client.post("/api/companies", json={"name": 5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert query_log == []


def test_bad_path_value_is_422(client):
    response = client.get("/api/companies/not-a-number")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "company_id"]


def test_get_queryset_override_hides_rows_from_every_action(client):
    other = CompanyFactory(tenant_id="tenant-b")
    headers = {"X-Tenant": "tenant-a"}
    assert client.get("/api/companies", headers=headers).json()["items"] == []
    for method in ("get", "put", "patch", "delete"):
        response = client.request(method, f"/api/companies/{other.id}", headers=headers,
                                  json={"name": "taken over"})
        assert response.status_code == 404, method
    other.refresh_from_db()
    assert other.name != "taken over"


def test_create_is_atomic_when_the_hook_fails_after_saving(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/companies", json={"name": "fail after save"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert not Company.objects.exists()


def test_unique_violation_is_409_and_writes_nothing(client):
    CompanyFactory(name="Acme")
    response = client.post("/api/companies", json={"name": "Acme"})
    assert response.status_code == 409
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert Company.objects.count() == 1


def test_unpaginated_list_answers_items_only(client):
    CountryFactory(code="DE", name="Germany")
    response = client.get("/api/countries")
    assert response.json() == {"items": [{"code": "DE", "name": "Germany"}]}


def test_pagination_limit_and_offset(client):
    companies = CompanyFactory.create_batch(5)
    response = client.get("/api/companies", params={"limit": 2, "offset": 2})
    body = response.json()
    assert [item["id"] for item in body["items"]] == [c.id for c in companies[2:4]]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)


@pytest.mark.parametrize("params", [{"limit": 0}, {"offset": -1}, {"limit": "x"}])
def test_pagination_refuses_bad_values(client, params):
    response = client.get("/api/companies", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_pagination_caps_limit_at_max_limit(client, monkeypatch):
    from djfapi.pagination import LimitOffsetPagination

    monkeypatch.setattr(LimitOffsetPagination, "max_limit", 3)
    CompanyFactory.create_batch(5)
    body = client.get("/api/companies", params={"limit": 10_000}).json()
    assert (body["limit"], len(body["items"]), body["total"]) == (3, 3, 5)


def test_nested_department_rows_are_filtered_by_parent(client):
    department = DepartmentFactory()
    DepartmentFactory()  # under another company
    response = client.get(f"/api/companies/{department.company_id}/departments")
    assert [item["id"] for item in response.json()["items"]] == [department.id]
    assert Department.objects.count() == 2


# -- state, hooks and transactions of every write -------------------------------------------------

def make_client(viewset, parent=None):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from djfapi import Router

    router = Router()
    if parent is not None:
        router.register("companies", parent)
    router.register("departments", viewset, parent=parent)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_the_viewset_sees_action_kwargs_and_parent():
    from tests.testapp import api

    seen = []

    class Recording(api.DepartmentViewSet):
        def get_queryset(self):
            seen.append((self.action, dict(self.kwargs), self.parent))
            return super().get_queryset()

        def perform_create(self, instance):
            seen.append(("perform_create", instance.pk, instance.company))
            super().perform_create(instance)

    department = DepartmentFactory()
    company = department.company
    client = make_client(Recording, parent=api.CompanyViewSet)
    base = f"/companies/{company.id}/departments"
    client.patch(f"{base}/{department.id}", json={"name": "x"})
    assert seen == [("partial_update", {"company_id": company.id, "department_id": department.id},
                     company)]
    seen.clear()
    client.post(base, json={"name": "new"})
    assert seen == [("perform_create", None, company)]  # unsaved, with the parent already set


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_update_and_destroy_are_atomic(method):
    from tests.testapp import api

    class Failing(api.CompanyViewSet):
        def perform_update(self, instance):
            super().perform_update(instance)
            raise RuntimeError("after the write")

        def perform_destroy(self, instance):
            instance.departments.all().delete()
            super().perform_destroy(instance)
            raise RuntimeError("after the delete")

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from djfapi import Router

    router = Router()
    router.register("companies", Failing)
    app = FastAPI()
    app.include_router(router)
    department = DepartmentFactory(company__name="Kept")
    response = TestClient(app, raise_server_exceptions=False).request(
        method, f"/companies/{department.company_id}", json={"name": "Changed"})
    assert response.status_code == 500
    assert Company.objects.get().name == "Kept"
    assert Department.objects.filter(pk=department.pk).exists()


def test_a_model_viewset_without_create_schema_has_no_post():
    from tests.testapp import api

    class NoCreate(api.CompanyViewSet):
        schemas = api.Schemas(get=api.CompanyOut, update=api.CompanyUpdate)

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from djfapi import Router

    router = Router()
    router.register("companies", NoCreate)
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.post("/companies", json={"name": "x"}).status_code == 405
    assert client.get("/companies").status_code == 200
    assert not Company.objects.exists()
