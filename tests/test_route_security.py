"""Every route of the secured test app, enumerated so a new route cannot slip past: 401
without a valid token, 403 without the scopes, and 404 (reads) or 404/422 (writes) for a
caller of another tenant — with nothing written."""

import pytest

from djfapi.testing import Client, make_token
from tests.testapp import models, secured
from tests.testapp.factories import CompanyFactory, EmployeeFactory, TagFactory, TeamFactory

ROUTES = [
    (method, route.path, route.name)
    for route in secured.build_router().routes
    for method in sorted(route.methods)
]
BODIES = {"name": "changed", "label": "changed", "user_id": "changed", "tags": []}


@pytest.fixture
def tenant_a():
    team = TeamFactory(department__company__tenant_id="tenant-a", name="original")
    company = team.department.company
    return {
        "company_id": company.id,
        "department_id": team.department_id,
        "team_id": team.id,
        "employee_id": EmployeeFactory(company=company, user_id="original").id,
        "tag_id": TagFactory(tenant_id="tenant-a", label="original").id,
    }


def snapshot():
    return [
        list(model.objects.order_by("pk").values())
        for model in (models.Company, models.Department, models.Team, models.Employee, models.Tag)
    ]


def call(client, method, path, values):
    body = BODIES if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, "/api" + path.format(**values), json=body)


def test_every_route_is_covered():
    assert len(ROUTES) == 31  # companies 6 + archive, departments, teams, employees and tags 6 each
    names = {name for _, _, name in ROUTES}
    assert {"companies-archive", "companies-departments-teams-destroy", "tags-list"} <= names


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
def test_no_token_or_a_bad_token_is_401(tenant_a, method, path, name, secured_app):
    client = Client(secured_app)
    before = snapshot()
    assert call(client, method, path, tenant_a).status_code == 401
    expired = make_token(secured.ALL_SCOPES, tenant="tenant-a", expires_in=-5)
    client.headers["Authorization"] = f"Bearer {expired}"
    response = call(client, method, path, tenant_a)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
def test_a_token_without_scopes_is_403(tenant_a, method, path, name, secured_app):
    client = Client(secured_app).authenticate(["unrelated.scope.read"], tenant="tenant-a")
    before = snapshot()
    assert call(client, method, path, tenant_a).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
def test_another_tenant_cannot_reach_the_rows(tenant_a, method, path, name, secured_app):
    CompanyFactory(tenant_id="tenant-b")  # the other tenant has rows of its own
    client = Client(secured_app).authenticate(secured.ALL_SCOPES, tenant="tenant-b")
    before = snapshot()
    response = call(client, method, path, tenant_a)
    names_a_row = "{" in path
    if method == "GET":
        if names_a_row:
            assert response.status_code == 404, response.text
        else:
            assert response.status_code == 200
            assert response.json()["items"] == [] or all(
                item.get("name") != "original" for item in response.json()["items"])
    elif names_a_row:
        assert response.status_code in (404, 422), response.text
    else:
        assert response.status_code == 201  # a new row, of tenant B's own
    after = snapshot()
    if method != "POST" or names_a_row:
        assert after == before


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
def test_the_owner_tenant_with_every_scope_gets_through(tenant_a, method, path, name, secured_app):
    client = Client(secured_app).authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    response = call(client, method, path, tenant_a)
    assert response.status_code < 300, (name, response.status_code, response.text)
