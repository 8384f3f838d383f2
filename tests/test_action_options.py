"""@action like DRF's: url_path and url_name, per-action viewset attributes, paginated actions,
a returned Response, and the request lifecycle hooks (initial, finalize_response, headers)."""

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from djfapi import Router, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.pagination import CursorPagination
from djfapi.permissions.base import BasePermission
from tests.testapp import api
from tests.testapp.factories import CompanyFactory
from tests.testapp.models import Company


class HeaderSaysYes(BasePermission):
    message = "Send X-Allowed: yes."

    def has_permission(self, viewset):
        return viewset.request.headers.get("x-allowed") == "yes"


class Name(BaseModel):
    name: str


class OptionsViewSet(api.CompanyViewSet):
    ordering = ("id",)

    @action(detail=True, url_path="set-archived/now", url_name="archive-now", methods=["post"])
    def archive_now(self, instance):
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance

    @action(detail=False, permission_classes=[HeaderSaysYes])
    def guarded(self) -> dict:
        return {"ok": True}

    @action(detail=False, paginated=True)
    def archived(self):
        page = self.paginate_queryset(self.get_queryset().filter(archived=True).order_by("id"))
        return self.get_paginated_response(page)

    @action(detail=False, paginated=True, response_model=Name, pagination_class=CursorPagination)
    def names(self):
        return self.get_paginated_response(self.paginate_queryset(self.get_queryset()))

    @action(detail=False)
    def export(self) -> PlainTextResponse:  # documented as text, as FastAPI does
        return PlainTextResponse("\n".join(self.get_queryset().values_list("name", flat=True)),
                                 status_code=203, headers={"X-Export": "1"})

    @action(detail=True, methods=["post"])
    def stamped(self, instance):
        self.headers["Location"] = f"/companies/{instance.id}"
        self.status_code = 202
        return instance

    def initial(self):
        if self.request.headers.get("x-refuse"):
            from django.core.exceptions import PermissionDenied
            raise PermissionDenied("Refused in initial().")
        self.seen = Company.objects.count()

    def finalize_response(self, result):
        self.headers["X-Seen"] = str(self.seen)
        return result


@pytest.fixture
def app():
    router = Router()
    router.register("companies", OptionsViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def test_url_path_and_url_name(app, client):
    company = CompanyFactory()
    response = client.post(f"/companies/{company.id}/set-archived/now")
    assert response.status_code == 200 and response.json()["archived"] is True
    assert app.url_path_for("companies-archive-now", company_id=company.id) == \
        f"/companies/{company.id}/set-archived/now"


def test_permission_classes_given_to_action_apply_to_it_only(client):
    denied = client.get("/companies/guarded")
    assert denied.status_code == 403 and denied.json()["detail"] == "Send X-Allowed: yes."
    assert client.get("/companies/guarded", headers={"X-Allowed": "yes"}).json() == {"ok": True}
    assert client.get("/companies").status_code == 200  # the list is not guarded


def test_an_unknown_attribute_given_to_action_fails_at_registration():
    class Typo(api.CompanyViewSet):
        @action(detail=False, permision_classes=[HeaderSaysYes])
        def typo(self):
            return {}

    with pytest.raises(ImproperlyConfigured, match=r"Typo\.typo got permision_classes"):
        Router().register("companies", Typo)


def test_a_paginated_action_answers_a_page(client):
    for index in range(3):
        CompanyFactory(name=f"c{index}", archived=index != 1)
    response = client.get("/companies/archived", params={"limit": 1, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 1)
    assert [item["name"] for item in body["items"]] == ["c2"]
    assert body["previous"] == "http://testserver/companies/archived?limit=1"  # as DRF: no offset=0
    assert body["next"] is None


def test_a_paginated_action_with_its_own_pagination_and_item_schema(client):
    for index in range(3):
        CompanyFactory(name=f"n{index}")
    first = client.get("/companies/names", params={"page_size": 2}).json()
    assert first["items"] == [{"name": "n0"}, {"name": "n1"}]
    rest = client.get("/companies/names", params={"cursor": first["next"], "page_size": 2}).json()
    assert rest["items"] == [{"name": "n2"}]


def test_a_paginated_action_is_documented_as_a_page_with_its_parameters(app):
    operation = app.openapi()["paths"]["/companies/archived"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["limit", "offset"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(app.openapi()["components"]["schemas"][schema]["properties"]) == {
        "items", "total", "limit", "offset", "next", "previous"}
    assert "page_size" in [p["name"] for p in app.openapi()["paths"]["/companies/names"]["get"]["parameters"]]


def test_paging_in_an_action_not_declared_paginated_fails_at_registration():
    class Unpaged(api.CompanyViewSet):
        @action(detail=False)
        def everything(self):
            return self.get_paginated_response(self.paginate_queryset(self.get_queryset()))

    with pytest.raises(ImproperlyConfigured, match=r"Unpaged\.everything .*paginated=True"):
        Router().register("companies", Unpaged)


def test_paginated_detail_action_fails_at_registration():
    class Detail(api.CompanyViewSet):
        @action(detail=True, paginated=True)
        def rows(self, instance):
            return []

    with pytest.raises(ImproperlyConfigured, match=r"Detail\.rows: paginated=True is for list-level"):
        Router().register("companies", Detail)


def test_a_returned_response_is_sent_as_it_is(client):
    CompanyFactory(name="A")
    CompanyFactory(name="B")
    response = client.get("/companies/export")
    assert (response.status_code, response.text) == (203, "A\nB")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-export"] == "1"
    assert "etag" not in response.headers


def test_a_response_returning_action_is_documented_with_its_media_type(app):
    from fastapi.responses import HTMLResponse

    class Exported(OptionsViewSet):
        @action(detail=True, response_class=HTMLResponse)
        def page(self, instance):
            return HTMLResponse(f"<h1>{instance.name}</h1>")

    router = Router()
    router.register("exported", Exported)
    documented = FastAPI()
    documented.include_router(router)
    paths = documented.openapi()["paths"]
    assert set(paths["/exported/export"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    page = next(item for path, item in paths.items() if path.endswith("/page"))
    assert set(page["get"]["responses"]["200"]["content"]) == {"text/html"}
    company = CompanyFactory(name="Acme")
    with TestClient(documented) as client:
        response = client.get(f"/exported/{company.pk}/page")
    assert (response.status_code, response.text) == (200, "<h1>Acme</h1>")
    assert response.headers["content-type"].startswith("text/html")


def test_headers_and_status_set_by_the_action_reach_the_client(client):
    company = CompanyFactory()
    response = client.post(f"/companies/{company.id}/stamped")
    assert response.status_code == 202
    assert response.headers["location"] == f"/companies/{company.id}"
    assert response.json()["id"] == company.id


def test_initial_and_finalize_response_run_around_every_action(client):
    company = CompanyFactory()
    assert client.get("/companies").headers["x-seen"] == "1"
    assert client.get(f"/companies/{company.id}").headers["x-seen"] == "1"
    response = client.get(f"/companies/{company.id}", headers={"X-Refuse": "1"})
    assert (response.status_code, response.json()["detail"]) == (403, "Refused in initial().")


def test_headers_reach_a_304_too(client):
    company = CompanyFactory()
    first = client.get(f"/companies/{company.id}")
    again = client.get(f"/companies/{company.id}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-seen"] == "1"


def test_initial_runs_after_the_permission_checks(client):
    response = client.get("/companies/guarded", headers={"X-Refuse": "1"})
    assert response.json()["detail"] == "Send X-Allowed: yes."


def test_paging_reached_indirectly_in_an_undeclared_action_says_what_to_write():
    class Indirect(api.CompanyViewSet):
        def page_of(self, queryset):
            return self.paginate_queryset(queryset)

        @action(detail=False)
        def everything(self):
            return self.page_of(self.get_queryset())

    router = Router()
    router.register("companies", Indirect)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client, pytest.raises(
            ImproperlyConfigured, match=r"Indirect\.everything pages rows but is not declared paginated"):
        client.get("/companies/everything")


def test_path_and_url_path_together_are_refused():
    with pytest.raises(ImproperlyConfigured, match="path or url_path"):
        action(detail=False, path="a", url_path="b")
