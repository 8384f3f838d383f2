"""``async def`` actions: awaited on the event loop after their checks ran in the hop; Django's
async ORM works in them, and the connections it opens are closed when the request ends."""

import asyncio

import httpx
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from fastapi import FastAPI
from fastapi.testclient import TestClient

from djfapi import Router, action
from djfapi.permissions.base import BasePermission
from tests.testapp import api
from tests.testapp.factories import CompanyFactory
from tests.testapp.models import Company


class NoRefusal(BasePermission):
    message = "Refused by permission."

    def has_permission(self, viewset):
        return not viewset.request.headers.get("x-refuse")


class AsyncViewSet(api.CompanyViewSet):
    permission_classes = [NoRefusal]

    @action(detail=False)
    async def counted(self, name: str | None = None) -> dict:
        queryset = self.get_queryset()
        if name:
            queryset = queryset.filter(name=name)
        await asyncio.sleep(0)  # a call to another service would be awaited here
        return {"count": await queryset.acount(), "loop": asyncio.get_running_loop() is not None}

    @action(detail=True, methods=["post"])
    async def rename(self, instance, name: str):
        instance.name = name
        await instance.asave(update_fields=["name"])
        self.headers["X-Renamed"] = "1"
        return instance

    @action(detail=False)
    async def first(self):
        return await self.get_queryset().order_by("id").afirst()

    @action(detail=False)
    async def refused(self):
        raise PermissionDenied("Not from the loop either.")


@pytest.fixture
def app():
    router = Router()
    router.register("companies", AsyncViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def test_a_list_level_async_action_uses_the_async_orm(client):
    CompanyFactory(name="A")
    CompanyFactory(name="B")
    assert client.get("/companies/counted").json() == {"count": 2, "loop": True}
    assert client.get("/companies/counted", params={"name": "A"}).json() == {"count": 1, "loop": True}


def test_a_detail_async_action_gets_the_object_checked_as_a_retrieve(client):
    company = CompanyFactory(name="Old", tenant_id="tenant-b")
    hidden = client.post(f"/companies/{company.id}/rename", params={"name": "New"},
                         headers={"X-Tenant": "tenant-a"})
    assert hidden.status_code == 404
    response = client.post(f"/companies/{company.id}/rename", params={"name": "New"})
    assert (response.status_code, response.json()["name"], response.headers["x-renamed"]) == (200, "New", "1")
    company.refresh_from_db()
    assert company.name == "New"


def test_an_async_action_returning_an_instance_answers_with_the_get_schema(client):
    company = CompanyFactory(name="Acme")
    assert client.get("/companies/first").json() == {"id": company.id, "name": "Acme", "archived": False,
                                                     "created_by": ""}


def test_permissions_run_before_an_async_action_and_django_errors_become_http(client):
    refused = client.get("/companies/counted", headers={"X-Refuse": "1"})
    assert (refused.status_code, refused.json()["detail"]) == (403, "Refused by permission.")
    raised = client.get("/companies/refused")
    assert (raised.status_code, raised.json()["detail"]) == (403, "Not from the loop either.")


def test_an_async_action_is_documented_with_its_parameters(app):
    operation = app.openapi()["paths"]["/companies/counted"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["name"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL backends")
def test_async_actions_leave_no_connection_open(app):
    from tests.test_connections import backends, settled_backends

    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    company = CompanyFactory()
    baseline = backends()

    async def run() -> None:
        limit = asyncio.Semaphore(20)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            async def one(index: int) -> None:
                async with limit:
                    path = "/companies/counted" if index % 2 else f"/companies/{company.id}/rename"
                    response = await (client.get(path) if index % 2 else
                                      client.post(path, params={"name": f"n{index}"}))
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(one(index) for index in range(200)))

    asyncio.run(run())
    assert settled_backends(baseline) == baseline
    assert Company.objects.count() == 1


def test_preconditions_on_an_async_write_are_refused_not_ignored(client):
    company = CompanyFactory(name="Old")
    response = client.post(f"/companies/{company.id}/rename", params={"name": "New"},
                           headers={"If-Match": '"x"'})
    assert response.status_code == 400
    assert "async action" in response.json()["detail"]
    company.refresh_from_db()
    assert company.name == "Old"
