"""@action: detail and list-level routes, their parameters, responses and transactions."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import Router, action
from tests.testapp import api
from tests.testapp.factories import CompanyFactory
from tests.testapp.models import Company


def test_detail_action_gets_the_object_and_answers_with_the_get_schema(client):
    company = CompanyFactory(name="Acme")
    response = client.post(f"/api/companies/{company.id}/archive")
    assert response.status_code == 200
    assert response.json() == {"id": company.id, "name": "Acme", "archived": True, "created_by": ""}
    company.refresh_from_db()
    assert company.archived


def test_detail_action_makes_the_checks_a_retrieve_makes(client):
    company = CompanyFactory(tenant_id="tenant-b")
    response = client.post(f"/api/companies/{company.id}/archive", headers={"X-Tenant": "tenant-a"})
    assert response.status_code == 404
    company.refresh_from_db()
    assert not company.archived


def test_detail_action_answers_405_for_other_methods(client):
    company = CompanyFactory()
    assert client.get(f"/api/companies/{company.id}/archive").status_code == 405


def test_list_action_with_its_own_query_parameter_and_response_model(client):
    CompanyFactory(name="Alpha", archived=True)
    CompanyFactory(name="Beta")
    assert client.get("/api/companies/summary").json() == {"count": 2, "archived": 1}
    response = client.get("/api/companies/summary", params={"name_contains": "alp"})
    assert response.json() == {"count": 1, "archived": 1}


def test_list_action_is_documented_with_its_response_model_and_parameters(app):
    operation = app.openapi()["paths"]["/api/companies/summary"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CompanySummary"
    }
    assert [p["name"] for p in operation["parameters"]] == ["name_contains"]


class Rename(BaseModel):
    name: str


class ActionsViewSet(api.CompanyViewSet):
    @action(detail=True, methods=["post"], path="rename-twice")
    def rename(self, instance, data: Rename):
        """Rename, then fail when asked to, to show the action's transaction."""
        instance.name = data.name
        instance.save()
        if data.name == "boom":
            raise RuntimeError("after the write")
        return instance

    @action(detail=False, methods=["post"])
    def noop(self):
        return None

    @action(detail=False)
    def names(self):
        return [company.name for company in self.get_queryset()]

    @action(detail=False)
    def firsts(self):
        return list(self.get_queryset().order_by("id")[:2])


@pytest.fixture
def actions_client():
    router = Router()
    router.register("companies", ActionsViewSet)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_action_takes_a_body_declared_as_a_parameter(actions_client):
    company = CompanyFactory(name="Old")
    response = actions_client.post(f"/companies/{company.id}/rename-twice", json={"name": "New"})
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    bad = actions_client.post(f"/companies/{company.id}/rename-twice", json={"nom": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "name"]


def test_writing_action_runs_in_a_transaction(actions_client):
    company = CompanyFactory(name="Old")
    response = actions_client.post(f"/companies/{company.id}/rename-twice", json={"name": "boom"})
    assert response.status_code == 500
    company.refresh_from_db()
    assert company.name == "Old"


def test_action_returning_none_answers_204(actions_client):
    response = actions_client.post("/companies/noop")
    assert (response.status_code, response.content) == (204, b"")


def test_action_returning_plain_data_is_json(actions_client):
    CompanyFactory(name="A")
    CompanyFactory(name="B")
    assert actions_client.get("/companies/names").json() == ["A", "B"]
    assert Company.objects.count() == 2


class Brief(BaseModel):
    id: int


class DeclaredViewSet(api.CompanyViewSet):
    @action(detail=True, response_model=Brief)
    def brief(self, instance):
        return instance  # read through Brief: only `id` leaves

    @action(detail=False)
    def labels(self) -> list[str]:
        return [company.name for company in self.get_queryset()]

    @action(detail=True, methods=["post"])
    def touch(self, instance) -> None:
        instance.save()

    @action(detail=True, methods=["get", "post"])
    def both(self, instance):
        return instance


@pytest.fixture
def declared():
    router = Router()
    router.register("companies", DeclaredViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


def test_response_model_also_shapes_a_returned_instance(declared):
    company = CompanyFactory(name="Secret name")
    assert TestClient(declared).get(f"/companies/{company.id}/brief").json() == {"id": company.id}


def test_return_annotations_document_the_action(declared):
    paths = declared.openapi()["paths"]
    labels = paths["/companies/labels"]["get"]["responses"]["200"]["content"]["application/json"]
    assert labels["schema"] == {"type": "array", "items": {"type": "string"},
                                "title": "Response Companies Labels"}
    touch = paths["/companies/{company_id}/touch"]["post"]["responses"]
    assert "204" in touch and "200" not in touch
    company = CompanyFactory(name="A")
    client = TestClient(declared)
    assert client.get("/companies/labels").json() == ["A"]
    assert client.post(f"/companies/{company.id}/touch").status_code == 204


def test_an_action_with_several_methods_gets_one_operation_each(declared):
    both = declared.openapi()["paths"]["/companies/{company_id}/both"]
    assert (both["get"]["operationId"], both["post"]["operationId"]) == (
        "companies_both_get", "companies_both_post")
    company = CompanyFactory()
    client = TestClient(declared)
    assert client.get(f"/companies/{company.id}/both").status_code == 200
    assert client.post(f"/companies/{company.id}/both").status_code == 200


def test_an_action_path_that_hides_a_child_fails():
    from djfapi.exceptions import ImproperlyConfigured

    class Clash(api.CompanyViewSet):
        @action(detail=True)
        def departments(self, instance):
            return instance

    router = Router()
    router.register("companies", Clash)
    with pytest.raises(ImproperlyConfigured, match="detail @action at path 'departments'"):
        router.register("departments", api.DepartmentViewSet, parent=Clash)


def test_an_unresolvable_annotation_fails_at_registration():
    from djfapi.exceptions import ImproperlyConfigured

    class Unresolvable(api.CompanyViewSet):
        @action(detail=False)
        def odd(self, value: "NotDefinedAnywhere"):  # noqa: F821
            return None

    with pytest.raises(ImproperlyConfigured, match="an annotation cannot be resolved"):
        Router().register("companies", Unresolvable)


def test_action_returning_model_instances_answers_each_with_the_get_schema(actions_client):
    for name in ("A", "B", "C"):
        CompanyFactory(name=name)
    response = actions_client.get("/companies/firsts")
    assert response.status_code == 200, response.text
    assert [row["name"] for row in response.json()] == ["A", "B"]
    assert set(response.json()[0]) == {"id", "name", "archived", "created_by"}
