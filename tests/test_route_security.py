"""Every route of the secured test apps, enumerated so a new route cannot slip past: 401
without a valid token, 403 without the scopes, 404 (reads) or 404/422 (writes) for a caller
of another tenant, 403 at every depth without an ancestor's read scope, 404 at every depth
for an `own` caller who owns nothing above — each with nothing written."""

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from djfapi.permissions.jwt import INVALID_TOKEN
from djfapi.testing import Client, make_token
from tests.testapp import library, models, secured
from tests.testapp.factories import (
    AuthorFactory,
    CompanyFactory,
    EmployeeFactory,
    ReviewFactory,
    TagFactory,
    TeamFactory,
)


@dataclass(frozen=True)
class SecuredApp:
    fixture: str  # the session fixture serving it
    all_scopes: list[str]
    own_scopes: list[str]  # reads and updates with the `own` selector, creates; no deletes
    root_read: list[str]  # the read scopes of the top-level resource
    models: tuple[Any, ...]  # what a snapshot compares


COMPANIES = SecuredApp(
    "secured_app", secured.ALL_SCOPES,
    [*secured.READ[1:], *secured.UPDATE[1:], "business.companies.create"],
    secured.READ, (models.Company, models.Department, models.Team, models.Employee, models.Tag))
LIBRARY = SecuredApp(
    "library_app", library.ALL_SCOPES,
    [scope for scope in library.every_scope("authors", "books", "reviews", selector="own")
     if not scope.endswith(".delete.any")],
    ["library.authors.read.any", "library.authors.read.own"],
    (models.Author, models.Book, models.Review))

def routes(spec, router, *, nested_only=False):
    nested = tuple(f"{r.basename}-" for r in router.registrations if r.parent is not None)
    return [pytest.param(spec, method, route.path, id=f"{method}-{route.name}")
            for route in router.routes for method in sorted(route.methods)
            if route.include_in_schema  # HEAD twins: tests/test_http_niceties.py
            and (not nested_only or route.name.startswith(nested))]


ROUTES = [*routes(COMPANIES, secured.build_router()), *routes(LIBRARY, library.build_router())]
NESTED = [*routes(COMPANIES, secured.build_router(), nested_only=True),
          *routes(LIBRARY, library.build_router(), nested_only=True)]
SERIAL = itertools.count()
BODIES = {"companies": {"name": "changed"}, "departments": {"name": "changed"}, "teams": {"name": "changed"},
          "employees": {"user_id": "changed"}, "tags": {"label": "changed"}, "authors": {"name": "changed"},
          "books": {"title": "changed"}, "reviews": {"text": "changed"}}


@pytest.fixture
def rows():
    """Tenant A's rows in both apps: what each path's ids name. The owner is `owner` (an
    owner employee of the company, the creator of the library rows)."""
    team = TeamFactory(department__company__tenant_id="tenant-a", name="original")
    company = team.department.company
    EmployeeFactory(company=company, user_id="owner", type="owner")
    review = ReviewFactory(book__author=AuthorFactory(tenant_id="tenant-a", created_by="owner"),
                           book__created_by="owner", created_by="owner", text="original")
    return {
        "company_id": company.id, "department_id": team.department_id, "team_id": team.id,
        "employee_id": EmployeeFactory(company=company, user_id="original").id,
        "tag_id": TagFactory(tenant_id="tenant-a", label="original").id,
        "author_id": review.book.author_id, "book_id": review.book_id, "review_id": review.id,
    }


def snapshot(spec):
    return [list(model.objects.order_by("pk").values()) for model in spec.models]


def call(client, method, path, values):
    resource = next(part for part in reversed(path.split("/")) if part and "{" not in part)
    if resource == "archive":
        resource = "companies"
    body = ({name: f"{value}-{next(SERIAL)}" for name, value in BODIES[resource].items()}
            if method in ("POST", "PUT", "PATCH") else None)  # unique: names may be unique
    return client.request(method, "/api" + path.format(**values), json=body)


def test_every_route_is_covered():
    names = {param.id for param in ROUTES}
    assert len(ROUTES) == 31 + 18  # companies 6 + archive, four more of 6; authors, books, reviews 6 each
    assert {"POST-companies-archive", "DELETE-companies-departments-teams-destroy", "GET-tags-list",
            "PATCH-authors-books-reviews-partial_update"} <= names


@pytest.mark.parametrize(("spec", "method", "path"), ROUTES)
def test_no_token_or_a_bad_token_is_401(request, rows, spec, method, path):
    client = Client(request.getfixturevalue(spec.fixture))
    before = snapshot(spec)
    assert call(client, method, path, rows).status_code == 401
    expired = make_token(spec.all_scopes, tenant="tenant-a", expires_in=-5)
    client.headers["Authorization"] = f"Bearer {expired}"
    response = call(client, method, path, rows)
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN}
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert snapshot(spec) == before


@pytest.mark.parametrize(("spec", "method", "path"), ROUTES)
def test_a_token_without_scopes_is_403(request, rows, spec, method, path):
    client = Client(request.getfixturevalue(spec.fixture)).authenticate(["unrelated.scope.read"],
                                                                        tenant="tenant-a")
    before = snapshot(spec)
    assert call(client, method, path, rows).status_code == 403
    assert snapshot(spec) == before


@pytest.mark.parametrize(("spec", "method", "path"), ROUTES)
def test_another_tenant_cannot_reach_the_rows(request, rows, spec, method, path):
    CompanyFactory(tenant_id="tenant-b")  # the other tenant has rows of its own
    AuthorFactory(tenant_id="tenant-b")
    client = Client(request.getfixturevalue(spec.fixture)).authenticate(spec.all_scopes, tenant="tenant-b")
    before = snapshot(spec)
    response = call(client, method, path, rows)
    names_a_row = "{" in path
    if method == "GET":
        if names_a_row:
            assert response.status_code == 404, response.text
        else:
            assert response.status_code == 200
            assert all("original" not in item.values() for item in response.json()["items"])
    elif names_a_row:
        assert response.status_code in (404, 422), response.text
    else:
        assert response.status_code == 201  # a new row, of tenant B's own
    if method != "POST" or names_a_row:
        assert snapshot(spec) == before


@pytest.mark.parametrize(("spec", "method", "path"), NESTED)
def test_without_the_ancestors_read_scope_no_depth_is_reachable(request, rows, spec, method, path):
    scopes = [scope for scope in spec.all_scopes if scope not in spec.root_read]
    client = Client(request.getfixturevalue(spec.fixture)).authenticate(scopes, tenant="tenant-a",
                                                                        user="owner")
    before = snapshot(spec)
    response = call(client, method, path, rows)
    assert response.status_code == 403, response.text
    assert snapshot(spec) == before


@pytest.mark.parametrize(("spec", "method", "path"), ROUTES)
def test_an_own_caller_reaches_only_what_they_own_at_every_depth(request, rows, spec, method, path):
    app = request.getfixturevalue(spec.fixture)
    stranger = Client(app).authenticate(spec.own_scopes, tenant="tenant-a", user="stranger")
    before = snapshot(spec)
    response = call(stranger, method, path, rows)
    if "{" in path or response.status_code == 403:  # 403: a scope the own token lacks (deletes, tags)
        assert response.status_code in (403, 404), response.text
    elif method == "GET":
        assert response.json()["items"] == []
    if method != "POST" or "{" in path:
        assert snapshot(spec) == before
    owner = Client(app).authenticate(spec.own_scopes, tenant="tenant-a", user="owner")
    response = call(owner, method, path, rows)
    if response.status_code == 403:  # only where the scopes ask for more than `own`
        assert "holds none of the scopes this action needs" in response.text
    else:
        assert response.status_code < 300, response.text


@pytest.mark.parametrize(("spec", "method", "path"), ROUTES)
def test_the_owner_tenant_with_every_scope_gets_through(request, rows, spec, method, path):
    client = Client(request.getfixturevalue(spec.fixture)).authenticate(spec.all_scopes, tenant="tenant-a")
    response = call(client, method, path, rows)
    assert response.status_code < 300, (method, path, response.status_code, response.text)


@pytest.mark.parametrize(("spec", "method", "path"), [p for p in NESTED if p.values[0] is COMPANIES
                                                      and p.values[1] != "GET"])
def test_an_inherited_own_write_scope_writes_below_owned_parents_only(request, rows, spec, method, path):
    """Departments, teams and employees take the company's `update` scopes: with `update.own`,
    only below companies the caller owns, though `read.any` lets them read every one."""
    scopes = [secured.READ[0], secured.UPDATE[1]]
    app = request.getfixturevalue(spec.fixture)
    before = snapshot(spec)
    stranger = Client(app).authenticate(scopes, tenant="tenant-a", user="stranger")
    assert call(stranger, method, path, rows).status_code == 404
    assert snapshot(spec) == before
    owner = Client(app).authenticate(scopes, tenant="tenant-a", user="owner")
    assert call(owner, method, path, rows).status_code < 300
