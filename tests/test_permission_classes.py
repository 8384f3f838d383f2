"""IsAuthenticated, HasScopes and DjangoModelPermissions with the JWT bearer."""

import pytest
from django.contrib.auth.models import Permission, User
from fastapi import FastAPI

from djfapi import Router
from djfapi.permissions import DjangoModelPermissions, HasScopes, IsAuthenticated, Scopes
from djfapi.permissions.classes import permission_to_scope
from djfapi.testing import Client
from tests.testapp import secured
from tests.testapp.factories import CompanyFactory, EmployeeFactory


def client_for(*permissions, scopes=None):
    class Guarded(secured.CompanyViewSet):
        permission_classes = list(permissions)

    if scopes is not None:
        Guarded.scopes = scopes
    router = Router()
    router.register("companies", Guarded)
    router.register("departments", secured.DepartmentViewSet, parent=Guarded)
    app = FastAPI()
    app.include_router(router)
    return Client(app)


def test_is_authenticated_and_has_scopes():
    CompanyFactory(tenant_id="t1")
    client = client_for(IsAuthenticated & HasScopes("business.companies.audit.any"))
    client.authenticate(["business.companies.read.any"], tenant="t1")
    response = client.get("/companies")
    assert response.status_code == 403
    assert response.json() == {"detail": "One of these scopes is needed: business.companies.audit.any."}
    client.authenticate(["business.companies.read.any", "business.companies.audit.any"], tenant="t1")
    assert client.get("/companies").status_code == 200


def test_permissions_to_scopes_as_0_0_x_mapped_them():
    assert permission_to_scope("testapp.view_company") == "testapp.company.read.any"
    assert permission_to_scope("testapp.change_company_own") == "testapp.company.update.own"
    assert permission_to_scope("testapp.add_company") == "testapp.company.create"
    assert permission_to_scope("testapp.delete_company") == "testapp.company.delete.any"
    assert permission_to_scope("nonsense") is None


DJANGO_SCOPES = Scopes(
    get=["testapp.company.read.any", "testapp.company.read.own"],
    post=["testapp.company.create"],
    patch=["testapp.company.update.any"],
    delete=["testapp.company.delete.any"],
)


def user_with(*codenames):
    user = User.objects.create(username="alice")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def companies():
    owned = CompanyFactory(tenant_id="t1", name="Owned")
    CompanyFactory(tenant_id="t1", name="Not owned")
    return owned


def test_django_permissions_grant_without_scopes_in_the_token(companies):
    user = user_with("view_company", "add_company")
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=str(user.pk))  # the token holds no scopes
    assert client.get("/companies").json()["total"] == 2
    assert client.post("/companies", json={"name": "New"}).status_code == 201
    response = client.delete(f"/companies/{companies.id}")
    assert response.status_code == 403
    assert response.json() == {"detail": "Your account's permissions do not allow this action."}


def test_django_permission_selectors_reach_get_queryset(companies):
    user = user_with("view_company_own")
    EmployeeFactory(company=companies, user_id=str(user.pk), type="owner")
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=str(user.pk))
    assert [c["name"] for c in client.get("/companies").json()["items"]] == ["Owned"]


@pytest.mark.parametrize(("sub", "status"), [("404", 403), ("not-a-number", 403), (None, 401)])
def test_unknown_or_inactive_users_are_denied(companies, sub, status):
    User.objects.create(username="bob", is_active=False)
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=sub)
    assert client.get("/companies").status_code == status  # no user at all: an invalid token


def test_user_lookup_happens_inside_the_signalled_hop(companies, query_log):
    import threading

    user = user_with("view_company")
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=str(user.pk))
    query_log.clear()
    assert client.get("/companies").status_code == 200
    threads = {ident for ident, _ in query_log}
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert any('"auth_user"' in sql for _, sql in query_log)


def test_a_denied_composition_looks_the_user_up_once(companies, query_log):
    """The side that denied gives the message; it is not asked again (a second user lookup)."""
    user = user_with("view_company")
    audit = HasScopes("business.companies.audit.any")
    client = client_for(DjangoModelPermissions & audit, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=str(user.pk))
    query_log.clear()
    response = client.get("/companies")
    assert response.status_code == 403
    assert response.json() == {"detail": "One of these scopes is needed: business.companies.audit.any."}
    assert sum('FROM "auth_user"' in sql for _, sql in query_log) == 1


def test_a_child_inheriting_scopes_checks_the_django_permissions_too(companies):
    """Departments inherit the company viewset's scopes, so their scopes come from where the
    company's do: the user's Django permissions, not the token's own claims."""
    from tests.testapp.models import Department

    reader = user_with("view_company")
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate(["testapp.company.update.any"], tenant="t1", user=str(reader.pk))  # claims a write
    path = f"/companies/{companies.id}/departments"
    refused = client.post(path, json={"name": "escalated"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Your account's permissions do not allow this action."}
    assert not Department.objects.exists()
    assert client.get(path).status_code == 200  # reading is what the user may do

    writer = User.objects.create(username="carol")
    writer.user_permissions.add(*Permission.objects.filter(codename__in=["view_company", "change_company"]))
    client.authenticate([], tenant="t1", user=str(writer.pk))  # the token holds no scopes at all
    assert client.post(path, json={"name": "Sales"}).status_code == 201
    assert [d["name"] for d in client.get(path).json()["items"]] == ["Sales"]


@pytest.mark.parametrize("sub", [" {pk}", "0{pk}", "+{pk}", "{pk}\n", "{pk}.0"])
def test_a_sub_names_a_user_only_as_its_pk_is_written(companies, sub):
    user = user_with("view_company")
    client = client_for(DjangoModelPermissions, scopes=DJANGO_SCOPES)
    client.authenticate([], tenant="t1", user=sub.format(pk=user.pk))
    assert client.get("/companies").status_code == 403


def test_an_entry_that_is_no_permission_fails_at_register():
    from djfapi import action
    from djfapi.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"Guarded.permission_classes holds <class 'object'>"):
        client_for(object)

    class ActionGuarded(secured.CompanyViewSet):
        @action(detail=False, permission_classes=[IsAuthenticated, "IsAdmin"])
        def report(self):
            return {}

    refused = r"ActionGuarded.report.permission_classes holds 'IsAdmin'"
    with pytest.raises(ImproperlyConfigured, match=refused):
        Router().register("companies", ActionGuarded)
