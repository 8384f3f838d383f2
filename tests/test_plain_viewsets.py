"""``ViewSet``: a viewset without a model, its list / retrieve / ... and actions written by hand;
security, scopes and permission classes apply, OpenAPI shows the declared responses."""
from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import Router, ViewSet, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import Scopes
from djfapi.permissions.base import BasePermission
from djfapi.testing import make_token
from tests.testapp import api
from tests.testapp.models import Company
from tests.testapp.secured import token

PROBES = {"db": True, "cache": False}


class Check(BaseModel):
    name: str
    ok: bool


class NewCheck(BaseModel):
    name: str


class NotOnFriday(BasePermission):
    message = "Not on Friday."

    def has_permission(self, viewset):
        return viewset.request.headers.get("x-day") != "friday"


class HealthViewSet(ViewSet):
    security = token
    scopes = Scopes(get=["ops.health.read"], post=["ops.health.write"], delete=["ops.health.write"])
    permission_classes = [NotOnFriday]

    def list(self) -> list[Check]:
        return [Check(name=name, ok=ok) for name, ok in PROBES.items()]

    def retrieve(self, pk: str) -> Check:
        if pk not in PROBES:
            raise HTTPException(404, detail=f"No probe {pk!r}.")
        return Check(name=pk, ok=PROBES[pk])

    def create(self, data: NewCheck) -> Check:
        Company.objects.create(name=data.name, tenant_id=self.access.tenant_id)  # the ORM in the hop
        return Check(name=data.name, ok=True)

    def destroy(self, pk: str) -> None:
        Company.objects.filter(name=pk).delete()

    @action(detail=False)
    def count(self) -> int:
        return len(PROBES)

    @action(detail=True)
    def twice(self, pk: str) -> list[str]:
        return [pk, pk]


@pytest.fixture
def app():
    router = Router()
    router.register("health", HealthViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def auth(*scopes):
    return {"Authorization": f"Bearer {make_token(scopes)}"}


def test_list_retrieve_and_actions_written_by_hand(client):
    read = auth("ops.health.read")
    assert client.get("/health", headers=read).json() == [{"name": "db", "ok": True},
                                                          {"name": "cache", "ok": False}]
    assert client.get("/health/db", headers=read).json() == {"name": "db", "ok": True}
    assert client.get("/health/nope", headers=read).status_code == 404
    assert client.get("/health/count", headers=read).json() == 2
    assert client.get("/health/db/twice", headers=read).json() == ["db", "db"]


def test_writes_written_by_hand_run_in_the_hop(client):
    write = auth("ops.health.write")
    created = client.post("/health", json={"name": "new"}, headers=write)
    assert (created.status_code, created.json()) == (201, {"name": "new", "ok": True})
    assert Company.objects.filter(name="new", tenant_id="tenant").exists()
    deleted = client.delete("/health/new", headers=write)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Company.objects.exists()


def test_security_scopes_and_permissions_apply(client):
    assert client.get("/health").status_code == 401
    assert client.get("/health", headers=auth("ops.health.write")).status_code == 403
    assert client.post("/health", json={"name": "x"}, headers=auth("ops.health.read")).status_code == 403
    friday = client.get("/health/db", headers={**auth("ops.health.read"), "X-Day": "friday"})
    assert (friday.status_code, friday.json()["detail"]) == (403, "Not on Friday.")


def test_openapi_shows_the_declared_responses_and_a_string_path_value(app):
    paths = app.openapi()["paths"]
    assert set(paths) == {"/health", "/health/{pk}", "/health/count", "/health/{pk}/twice"}
    retrieve = paths["/health/{pk}"]["get"]
    assert retrieve["parameters"][0]["name"] == "pk"
    assert retrieve["parameters"][0]["schema"]["type"] == "string"
    assert retrieve["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Check"}
    assert set(paths["/health"]) == {"get", "post"}
    assert "201" in paths["/health"]["post"]["responses"]


def test_a_viewset_cannot_be_nested_below_a_viewset_without_a_model():
    router = Router()
    router.register("health", HealthViewSet)
    with pytest.raises(ImproperlyConfigured, match="below HealthViewSet, a ViewSet without a model"):
        router.register("companies", api.CompanyViewSet, parent=HealthViewSet)


def test_a_viewset_without_a_model_cannot_be_nested():
    router = Router()
    router.register("companies", api.CompanyViewSet)
    with pytest.raises(ImproperlyConfigured, match="HealthViewSet is a ViewSet without a model and cannot"):
        router.register("health", HealthViewSet, parent=api.CompanyViewSet)


def test_a_viewset_without_routes_fails_at_registration():
    class Empty(ViewSet):
        pass

    with pytest.raises(ImproperlyConfigured, match="Empty has no routes"):
        Router().register("empty", Empty)
