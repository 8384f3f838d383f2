"""``self.user`` / ``self.request.user``: token-only by default, a Django user when a loader is
set, the same user for ``DjangoModelPermissions``."""

import threading

import pytest
from django.contrib.auth.models import Permission, User
from fastapi import FastAPI
from fastapi.testclient import TestClient

from djfapi import Router, ViewSet
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import DjangoModelPermissions, JWTBearer, Scopes, UserBySubject
from djfapi.testing import Client, make_token
from tests.testapp import secured
from tests.testapp.factories import CompanyFactory


def whoami_viewset(loader=None, security=True):
    class WhoAmI(ViewSet):
        user_from_token = loader

        def list(self) -> dict:
            user = self.user
            return {"class": type(user).__name__, "pk": None if user.pk is None else str(user.pk),
                    "authenticated": user.is_authenticated, "same": user is self.request.user,
                    "username": getattr(user, "username", None)}

    if security:
        WhoAmI.security = JWTBearer()
    return WhoAmI


def client_of(viewset, prefix="me", **register):
    router = Router()
    router.register(prefix, viewset, **register)
    app = FastAPI()
    app.include_router(router)
    return Client(app)


def test_by_default_the_user_is_the_token_and_costs_no_query(query_log):
    client = client_of(whoami_viewset()).authenticate([], tenant="t1", user="alice")
    body = client.get("/me").json()
    assert body == {"class": "TokenUser", "pk": "alice", "authenticated": True, "same": True,
                    "username": "alice"}
    assert not [sql for _, sql in query_log if "auth_user" in sql]


def test_without_security_the_user_is_anonymous():
    body = client_of(whoami_viewset(security=False)).get("/me").json()
    assert (body["class"], body["authenticated"], body["same"]) == ("AnonymousUser", False, True)


def test_a_loader_finds_the_django_user_by_subject():
    alice = User.objects.create(username="alice")
    client = client_of(whoami_viewset(UserBySubject("username"))).authenticate([], tenant="t1", user="alice")
    body = client.get("/me").json()
    assert body == {"class": "User", "pk": str(alice.pk), "authenticated": True, "same": True,
                    "username": "alice"}


def test_a_loader_may_create_the_user_on_first_use():
    client = client_of(whoami_viewset(UserBySubject("username", create=True, defaults={"first_name": "New"})))
    client.authenticate([], tenant="t1", user="newcomer")
    first, second = client.get("/me").json(), client.get("/me").json()
    assert first["pk"] == second["pk"] and first["class"] == "User"
    assert list(User.objects.values_list("username", "first_name")) == [("newcomer", "New")]


def test_no_user_for_the_subject_is_a_401():
    client = client_of(whoami_viewset(UserBySubject("username"))).authenticate([], tenant="t1", user="ghost")
    response = client.get("/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "No user account matches this token."}
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_an_inactive_user_is_a_401():
    User.objects.create(username="gone", is_active=False)
    client = client_of(whoami_viewset(UserBySubject("username"))).authenticate([], tenant="t1", user="gone")
    response = client.get("/me")
    assert (response.status_code, response.json()) == (401, {"detail": "This user account is inactive."})


def test_a_subject_the_field_cannot_hold_is_no_user():
    client = client_of(whoami_viewset(UserBySubject())).authenticate([], tenant="t1", user="not-a-number")
    assert client.get("/me").status_code == 401


def test_the_project_default_applies_to_viewsets_without_their_own(settings):
    settings.DJFAPI = {"USER_FROM_TOKEN": "tests.test_request_user.BY_USERNAME"}
    User.objects.create(username="bob")
    client = client_of(whoami_viewset()).authenticate([], tenant="t1", user="bob")
    assert client.get("/me").json()["class"] == "User"


BY_USERNAME = UserBySubject("username")


def test_a_loader_that_cannot_be_imported_fails_at_registration():
    with pytest.raises(ImproperlyConfigured, match="tests.nowhere.loader"):
        client_of(whoami_viewset("tests.nowhere.loader"))
    with pytest.raises(ImproperlyConfigured, match="callable"):
        client_of(whoami_viewset(42))


def test_two_first_requests_of_a_new_subject_make_one_user():
    router = Router()
    router.register("me", whoami_viewset(UserBySubject("username", create=True)))
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)  # the real threadpool: each request on its own connection
    token = make_token(tenant="t1", user="racer")
    barrier, statuses = threading.Barrier(4), []

    def call():
        barrier.wait()
        statuses.append(client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert User.objects.filter(username="racer").count() == 1


DJANGO_SCOPES = Scopes(get=["testapp.company.read.any"], patch=["testapp.company.update.any"])


def test_django_model_permissions_use_the_loaders_user():
    class Guarded(secured.CompanyViewSet):
        permission_classes = [DjangoModelPermissions()]
        scopes = DJANGO_SCOPES
        user_from_token = UserBySubject("username")

    CompanyFactory(tenant_id="t1")
    carol = User.objects.create(username="carol")
    client = client_of(Guarded, "companies").authenticate([], tenant="t1", user="carol")
    assert client.get("/companies").status_code == 403
    carol.user_permissions.add(Permission.objects.get(codename="view_company"))
    assert client.get("/companies").status_code == 200
    carol.user_permissions.clear()
    assert client.get("/companies").status_code == 403
