"""HTTP niceties of a Router: HEAD on every GET route, OPTIONS with Allow, a 405's Allow naming
every method of the path (across routers and prefixes), trailing slashes, the API root."""

import pytest
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.testclient import TestClient

import djfapi
from djfapi import Router
from djfapi.testing import Client
from tests.testapp import api, secured
from tests.testapp.factories import CompanyFactory, DepartmentFactory

COMPARED = ("etag", "content-type", "content-length", "cache-control", "allow", "www-authenticate")


def app_with(router, prefix="/api"):
    app = FastAPI()
    djfapi.install(app)
    app.include_router(router, prefix=prefix)
    return app


def build_router(**options):
    router = Router(**options)
    router.register("companies", api.CompanyViewSet)
    router.register("departments", api.DepartmentViewSet, parent=api.CompanyViewSet)
    router.register("countries", api.CountryViewSet)
    return router


@pytest.fixture(scope="module")
def slashed_app():
    return app_with(build_router(trailing_slash=True, root_view=True))


@pytest.fixture(scope="module")
def rooted_app():
    return app_with(build_router(root_view=True), prefix="/v2")


def assert_head_is_get(client, path, **kwargs):
    get, head = client.get(path, **kwargs), client.head(path, **kwargs)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert {k: head.headers.get(k) for k in COMPARED} == {k: get.headers.get(k) for k in COMPARED}
    assert head.headers["content-length"] == str(len(get.content))
    return get


@pytest.mark.parametrize("path", [
    "/api/companies", "/api/companies/{id}", "/api/companies/{id}/departments",
    "/api/companies/{id}/departments/{department}", "/api/companies/summary",
    "/api/companies/{id}/departments/{department}/teams", "/api/companies/999999",
    "/api/companies?limit=-1",
])
def test_head_answers_the_headers_of_the_get_without_a_body(client, path):
    department = DepartmentFactory()
    get = assert_head_is_get(client, path.format(id=department.company_id, department=department.pk))
    assert get.status_code in (200, 404, 422)


def test_head_with_if_none_match_is_a_304_as_the_get(client):
    company = CompanyFactory()
    for path in ("/api/companies", f"/api/companies/{company.pk}"):
        tag = client.get(path).headers["etag"]
        response = client.head(path, headers={"If-None-Match": tag})
        assert (response.status_code, response.headers["etag"], response.content) == (304, tag, b"")


def test_head_runs_the_checks_of_the_get(secured_app):
    company = CompanyFactory(tenant_id="tenant-a")
    path = f"/api/companies/{company.pk}"
    anonymous = Client(secured_app)
    assert anonymous.head(path).status_code == 401
    assert_head_is_get(anonymous, path)
    no_scopes = Client(secured_app).authenticate(["business.tags.read.any"], tenant="tenant-a")
    assert no_scopes.head(path).status_code == 403
    other_tenant = Client(secured_app).authenticate(secured.READ, tenant="tenant-b")
    assert other_tenant.head(path).status_code == 404
    reader = Client(secured_app).authenticate(secured.READ, tenant="tenant-a")
    assert_head_is_get(reader, path)
    assert reader.head(path).status_code == 200


def test_head_runs_the_query_of_a_list(client, query_log):
    CompanyFactory()
    assert client.head("/api/companies").status_code == 200
    assert any("FROM" in sql and "company" in sql for _, sql in query_log)


@pytest.mark.parametrize(("path", "allowed"), [
    ("/api/companies", "GET, HEAD, OPTIONS, POST"),
    ("/api/companies/1", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
    ("/api/companies/1/archive", "OPTIONS, POST"),
    ("/api/companies/1/departments", "GET, HEAD, OPTIONS, POST"),
    ("/api/countries", "GET, HEAD, OPTIONS"),
])
def test_options_answers_allow_without_a_token_or_a_body(secured_app, client, path, allowed):
    response = client.options(path)
    assert (response.status_code, response.headers["allow"], response.content) == (204, allowed, b"")
    if path.startswith("/api/companies"):
        assert Client(secured_app).options(path).status_code == 204  # no token


def test_head_and_options_are_not_in_openapi(app):
    methods = {method for item in app.openapi()["paths"].values() for method in item}
    assert methods == {"get", "post", "put", "patch", "delete"}


def test_a_405_names_the_methods_of_every_router_at_the_path():
    reads, writes = Router(), Router()
    reads.register("countries", api.CountryViewSet)

    @writes.post("/countries", status_code=201)
    def create_country() -> dict[str, str]:
        return {}

    app = app_with(reads)
    app.include_router(writes, prefix="/api")
    with TestClient(app) as client:
        response = client.put("/api/countries")
        assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD, OPTIONS, POST")
        assert client.options("/api/countries").headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_cors_preflight_is_the_middlewares_and_options_keeps_allow():
    app = app_with(build_router())
    app.add_middleware(CORSMiddleware, allow_origins=["https://ui.example"], allow_methods=["*"])
    with TestClient(app) as client:
        preflight = client.options("/api/companies", headers={
            "Origin": "https://ui.example", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        plain = client.options("/api/companies", headers={"Origin": "https://ui.example"})
        assert (plain.status_code, plain.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")
        assert plain.headers["access-control-allow-origin"] == "https://ui.example"


def test_trailing_slash_ends_every_path_in_a_slash(slashed_app):
    paths = list(slashed_app.openapi()["paths"])
    assert "/api/companies/" in paths and "/api/companies/{company_id}/departments/{department_id}/" in paths
    assert "/api/companies/summary/" in paths and "/api/companies/{company_id}/archive/" in paths
    assert all(path.endswith("/") for path in paths)


def test_trailing_slash_serves_nested_routes_and_actions(slashed_app):
    department = DepartmentFactory()
    with TestClient(slashed_app, follow_redirects=False) as client:
        company = f"/api/companies/{department.company_id}/"
        assert client.get(company).json()["id"] == department.company_id
        assert client.get(f"{company}departments/{department.pk}/").status_code == 200
        assert client.post(f"{company}archive/").status_code == 200
        assert client.put("/api/companies/").headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert client.options(company).status_code == 204


def test_without_the_slash_is_a_307_that_keeps_method_and_body(slashed_app):
    with TestClient(slashed_app, follow_redirects=False) as client:
        response = client.post("/api/companies", json={"name": "Acme"})
        assert response.status_code == 307
        assert response.headers["location"].endswith("/api/companies/")
    with TestClient(slashed_app) as client:  # clients re-send the body on a 307
        created = client.post("/api/companies", json={"name": "Acme"})
        assert (created.status_code, created.json()["name"]) == (201, "Acme")


@pytest.mark.parametrize(("fixture", "root", "companies"), [
    ("slashed_app", "/api/", "http://testserver/api/companies/"),
    ("rooted_app", "/v2/", "http://testserver/v2/companies"),
])
def test_the_api_root_lists_top_level_resources(request, fixture, root, companies):
    app = request.getfixturevalue(fixture)
    with TestClient(app) as client:
        response = client.get(root)
        assert response.status_code == 200
        assert response.json() == {"companies": companies,
                                   "countries": companies.replace("companies", "countries")}
        assert client.get(response.json()["companies"]).status_code == 200
        assert client.get(root.rstrip("/")).json() == response.json()  # redirected
        assert client.head(root).status_code == 200
    assert app.openapi()["paths"][root]["get"]["operationId"] == "api_root"


def test_the_api_root_uses_the_host_and_scheme_of_the_request(rooted_app, settings):
    settings.ALLOWED_HOSTS = ["api.example"]
    with TestClient(rooted_app, base_url="https://api.example") as client:
        assert client.get("/v2/").json()["companies"] == "https://api.example/v2/companies"
        forged = client.get("/v2/", headers={"Host": "evil.example"})
        assert forged.status_code == 400 and "ALLOWED_HOSTS" in forged.json()["detail"]


def test_no_api_root_unless_asked(client):
    assert client.get("/api/").status_code == 404


def test_allow_in_an_app_mounted_in_another():
    outer = FastAPI()
    outer.mount("/service", app_with(build_router()))
    with TestClient(outer) as client:
        assert client.put("/service/api/companies").headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert client.options("/service/api/countries").headers["allow"] == "GET, HEAD, OPTIONS"


SECURED_GETS = [route.path for route in secured.build_router().routes
                if route.include_in_schema and "GET" in route.methods]


@pytest.mark.parametrize("path", SECURED_GETS)
def test_head_of_every_secured_get_answers_as_the_get(secured_app, path):
    department = DepartmentFactory(company__tenant_id="tenant-a")
    values = {"company_id": department.company_id, "department_id": department.pk,
              "team_id": 1, "employee_id": 1, "tag_id": 1, "function": "count", "field": "id"}
    url = "/api" + path.format(**values)
    assert Client(secured_app).head(url).status_code == 401
    for scopes, tenant in ((["business.tags.read.any"], "tenant-a"), (secured.ALL_SCOPES, "tenant-b"),
                           (secured.ALL_SCOPES, "tenant-a")):
        assert_head_is_get(Client(secured_app).authenticate(scopes, tenant=tenant), url)


def test_a_route_class_that_is_not_a_viewset_route_is_a_configuration_error():
    from fastapi.routing import APIRoute

    from djfapi.exceptions import ImproperlyConfigured
    with pytest.raises(ImproperlyConfigured, match="route_class to be djfapi.viewset_route.ViewSetRoute"):
        Router(route_class=APIRoute).register("countries", api.CountryViewSet)


def test_installed_apps_refuse_a_forged_host_before_any_redirect(settings):
    settings.ALLOWED_HOSTS = ["api.example"]
    app = app_with(build_router())  # djfapi.install(app)
    with TestClient(app, base_url="https://api.example", follow_redirects=False) as client:
        redirected = client.get("/api/companies/")  # Starlette's slash redirect builds Location from Host
        assert redirected.status_code == 307
        assert redirected.headers["location"] == "https://api.example/api/companies"
        forged = client.get("/api/companies/", headers={"Host": "evil.example"})
        assert forged.status_code == 400
        assert "location" not in forged.headers
        assert "'evil.example'" in forged.json()["detail"] and "ALLOWED_HOSTS" in forged.json()["detail"]
        # what builds no link from the host is answered as usual
        assert client.get("/openapi.json", headers={"Host": "evil.example"}).status_code == 200
