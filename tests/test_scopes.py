"""Scopes, selectors and Access: which scopes grant which action, what a viewset sees in
self.access, and how nested viewsets inherit their parent's security."""

import pytest
from fastapi import FastAPI

from djfapi import ModelViewSet, Router, Schemas, action
from djfapi.permissions import Access, AccessScope, AccessToken, Scopes
from djfapi.testing import Client
from tests.testapp import models, secured
from tests.testapp.factories import (
    CompanyFactory,
    DepartmentFactory,
    EmployeeFactory,
    TagFactory,
    TeamFactory,
)

OWN, ANY = "business.companies.read.own", "business.companies.read.any"


@pytest.fixture
def client(secured_app):
    return Client(secured_app)


def test_access_scope_parses_and_prints_back():
    scope = AccessScope.from_str("business.companies.read.own")
    assert (scope.service, scope.resource, scope.action, scope.selector) == (
        "business", "companies", "read", "own")
    assert str(scope) == "business.companies.read.own"
    assert str(AccessScope.from_str("business.companies.create")) == "business.companies.create"
    assert AccessScope.from_str("business.companies.create").selector is None
    for bad in ("business.companies", "a.b.c.d.e", "a..c"):
        with pytest.raises(ValueError, match="not a scope"):
            AccessScope.from_str(bad)


def test_access_scope_is_the_first_declared_scope_the_caller_holds():
    access = Access(AccessToken(sub="u1", ten="t1"), frozenset({OWN, ANY, "x.y.z"}))
    for_action = access.for_action([ANY, OWN])
    assert str(for_action.scope) == ANY
    assert [str(s) for s in for_action.scopes] == [ANY, OWN]
    assert (for_action.user_id, for_action.tenant_id, for_action.token.sub) == ("u1", "t1", "u1")
    assert for_action.has_scope("x.y.z") and not for_action.has_scope("a.b.c")


def test_scopes_map_actions_like_0_0_x():
    scopes = Scopes(get=["g.g.g"], post=["p.p.p"], patch=["u.u.u"], delete=["d.d.d"],
                    archive=["a.a.a"])
    table = {
        ("list", ("GET",), False): ("g.g.g",),
        ("retrieve", ("GET",), True): ("g.g.g",),
        ("create", ("POST",), False): ("p.p.p",),
        ("update", ("PUT",), True): ("u.u.u",),  # put falls back to patch
        ("partial_update", ("PATCH",), True): ("u.u.u",),
        ("destroy", ("DELETE",), True): ("d.d.d",),
        ("archive", ("POST",), True): ("a.a.a",),  # an action by name
        ("stats", ("GET",), False): ("g.g.g",),  # a reading action
        ("touch", ("POST",), True): ("u.u.u",),  # a writing detail action
        ("import_", ("POST",), False): ("p.p.p",),  # a writing list action
    }
    for (action_name, methods, detail), expected in table.items():
        assert scopes.for_action(action_name, methods=methods, detail=detail) == expected
    assert Scopes(get=["g.g.g"], list=["l.l.l"]).for_action("list") == ("l.l.l",)
    assert Scopes(get=["g.g.g"]).for_action("destroy") is None
    with pytest.raises(ValueError, match="not a scope"):
        Scopes(get=["typo"])


# -- selectors through HTTP -------------------------------------------------------------------

@pytest.fixture
def companies():
    owned = CompanyFactory(tenant_id="tenant-a", name="Owned")
    member = CompanyFactory(tenant_id="tenant-a", name="Member only")
    CompanyFactory(tenant_id="tenant-b", name="Other tenant")
    EmployeeFactory(company=owned, user_id="u1", type="owner")
    EmployeeFactory(company=member, user_id="u1", type="member")
    return owned, member


def names(response):
    return [item["name"] for item in response.json()["items"]]


def test_any_selector_sees_the_whole_tenant(client, companies):
    client.authenticate([ANY], tenant="tenant-a", user="u1")
    assert names(client.get("/api/companies")) == ["Owned", "Member only"]


def test_own_selector_sees_only_companies_the_caller_owns_or_admins(client, companies):
    owned, member = companies
    client.authenticate([OWN], tenant="tenant-a", user="u1")
    assert names(client.get("/api/companies")) == ["Owned"]
    assert client.get(f"/api/companies/{owned.id}").status_code == 200
    assert client.get(f"/api/companies/{member.id}").status_code == 404
    assert client.get(f"/api/companies/{member.id}/departments").status_code == 404


def test_a_child_inherits_its_parents_security_and_writes_need_patch_scopes(client):
    company = CompanyFactory(tenant_id="tenant-a")
    department = DepartmentFactory(company=company)
    path = f"/api/companies/{company.id}/departments"
    assert client.get(path).status_code == 401
    client.authenticate([ANY], tenant="tenant-a")
    assert client.get(path).status_code == 200
    assert client.post(path, json={"name": "Ops"}).status_code == 403
    client.authenticate(["business.companies.create"], tenant="tenant-a")
    assert client.post(path, json={"name": "Ops"}).status_code == 403
    client.authenticate(["business.companies.update.any"], tenant="tenant-a")
    assert client.post(path, json={"name": "Ops"}).status_code == 403  # the company: no read scope
    client.authenticate(["business.companies.update.any", ANY], tenant="tenant-a")
    assert client.post(path, json={"name": "Ops"}).status_code == 201
    teams = f"{path}/{department.id}/teams"
    assert client.post(teams, json={"name": "T"}).status_code == 201  # two levels down
    client.authenticate(["business.companies.update.any"], tenant="tenant-a")
    assert client.get(teams).status_code == 403  # reads need the get scopes


def test_own_selector_applies_to_parent_lookups_of_writes(client, companies):
    owned, member = companies
    client.authenticate(["business.companies.update.own", OWN], tenant="tenant-a", user="u1")
    assert client.post(f"/api/companies/{owned.id}/departments", json={"name": "x"}).status_code == 201
    assert client.post(f"/api/companies/{member.id}/departments", json={"name": "x"}).status_code == 404
    assert not models.Department.objects.filter(company=member).exists()


def test_action_scopes_are_its_own(client, companies):
    owned, _ = companies
    client.authenticate(["business.companies.update.own"], tenant="tenant-a", user="u1")
    assert client.post(f"/api/companies/{owned.id}/archive").status_code == 403
    client.authenticate(["business.companies.update.any"], tenant="tenant-a")
    assert client.post(f"/api/companies/{owned.id}/archive").json()["archived"] is True


def test_an_action_no_scope_grants_is_403_and_401_without_a_token():
    class ReadOnlyTags(secured.TagViewSet):
        scopes = Scopes(get=["business.tags.read.any"])

    router = Router()
    router.register("tags", ReadOnlyTags)
    app = FastAPI()
    app.include_router(router, prefix="/api")
    client = Client(app)
    tag = TagFactory(tenant_id="tenant-a")
    assert client.delete(f"/api/tags/{tag.id}").status_code == 401
    client.authenticate(secured.ALL_SCOPES, tenant="tenant-a")
    response = client.delete(f"/api/tags/{tag.id}")
    assert response.json() == {"detail": "No scope grants 'destroy' on this resource."}
    assert response.status_code == 403
    assert models.Tag.objects.filter(pk=tag.pk).exists()


def test_viewset_sees_the_access():
    seen = {}

    class WhoAmI(secured.CompanyViewSet):
        @action(detail=False, scopes=[ANY, OWN])
        def whoami(self):
            seen.update(user=self.access.user_id, tenant=self.access.tenant_id,
                        scope=str(self.access.scope), scopes=[str(s) for s in self.access.scopes],
                        claims=dict(self.access.token))
            return None

    router = Router()
    router.register("companies", WhoAmI)
    app = FastAPI()
    app.include_router(router)
    client = Client(app).authenticate([OWN, ANY, "other.thing.do"], tenant="t9", user="u9")
    assert client.get("/companies/whoami").status_code == 204
    assert (seen["user"], seen["tenant"], seen["scope"], seen["scopes"]) == (
        "u9", "t9", ANY, [ANY, OWN])
    assert seen["claims"]["iss"] == "https://auth.djfapi.test"


def test_scopes_without_security_fail_at_registration():
    from djfapi.exceptions import ImproperlyConfigured

    class NoSecurity(ModelViewSet):
        model = models.Tag
        schemas = Schemas(get=secured.TagOut)
        scopes = Scopes(get=["business.tags.read.any"])

    with pytest.raises(ImproperlyConfigured, match="sets scopes but no security"):
        Router().register("tags", NoSecurity)


def test_openapi_documents_scheme_scopes_and_errors():
    schema = secured.create_app().openapi()
    assert schema["components"]["securitySchemes"] == {
        "JWTBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    listing = schema["paths"]["/api/companies"]["get"]
    assert listing["security"] == [{"JWTBearer": [ANY, OWN]}]
    assert listing["description"] == f"Scopes: `{ANY}`, `{OWN}`."
    assert {"401", "403"} <= set(listing["responses"])
    create_team = schema["paths"][
        "/api/companies/{company_id}/departments/{department_id}/teams"]["post"]
    assert create_team["security"] == [{"JWTBearer": ["business.companies.update.any",
                                                      "business.companies.update.own"]}]
    assert create_team["description"] == (  # each ancestor's read scopes, so clients know them
        "Scopes: `business.companies.update.any`, `business.companies.update.own`.\n\n"
        f"Reading the parent company needs: `{ANY}`, `{OWN}`.\n\n"
        f"Reading the parent department needs: `{ANY}`, `{OWN}`.")
    assert schema["paths"]["/api/companies/{company_id}/archive"]["post"]["security"] == [
        {"JWTBearer": ["business.companies.update.any"]}]
    assert TeamFactory  # factories used by neighbouring tests


# -- an empty list is not "any token" ---------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: Scopes(delete=[]), lambda: Scopes(get=["a.b.c"], archive=()),
                                  lambda: action(detail=True, methods=["post"], scopes=[])])
def test_an_empty_scope_list_is_refused_saying_what_to_write(make):
    from djfapi.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"=\[\]\) grants nothing: leave .* out to deny it, "
                                                   r"or write .*=ANY_VALID_TOKEN\)"):
        make()


def test_any_valid_token_is_said_explicitly():
    from djfapi.permissions import ANY_VALID_TOKEN

    class OpenDeleteTags(secured.TagViewSet):
        scopes = Scopes(get=["business.tags.read.any"], delete=ANY_VALID_TOKEN)

    router = Router()
    router.register("tags", OpenDeleteTags)
    app = FastAPI()
    app.include_router(router, prefix="/api")
    client = Client(app)
    tag = TagFactory(tenant_id="tenant-a")
    assert client.delete(f"/api/tags/{tag.id}").status_code == 401
    client.authenticate(["unrelated.scope.read"], tenant="tenant-a")
    assert client.get("/api/tags").status_code == 403
    assert client.delete(f"/api/tags/{tag.id}").status_code == 204
    assert app.openapi()["paths"]["/api/tags/{tag_id}"]["delete"]["description"] == "Needs a valid token."
    assert repr(OpenDeleteTags.scopes) == "Scopes(get=['business.tags.read.any'], delete=ANY_VALID_TOKEN)"
