"""permission_classes: has_permission before the action, has_object_permission in get_object,
composed with &, | and ~; denials are 403."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from djfapi import Router
from djfapi.permissions import AllowAny, BasePermission
from tests.testapp import api
from tests.testapp.factories import CompanyFactory, DepartmentFactory
from tests.testapp.models import Company


class HeaderSaysYes(BasePermission):
    message = "Send X-Allow: yes."

    def has_permission(self, viewset):
        return viewset.request.headers.get("x-allow") == "yes"


class ReadsOnly(BasePermission):
    message = "Read-only."

    def has_permission(self, viewset):
        return viewset.action in ("list", "retrieve")


class NotArchived(BasePermission):
    message = "The company is archived."

    def has_object_permission(self, viewset, obj):
        return not obj.archived


def client_for(*permissions):
    class Guarded(api.CompanyViewSet):
        permission_classes = list(permissions)

    router = Router()
    router.register("companies", Guarded)
    router.register("departments", api.DepartmentViewSet, parent=Guarded)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_denied_call_is_403_with_the_message_and_writes_nothing():
    client = client_for(HeaderSaysYes)
    response = client.post("/companies", json={"name": "Acme"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Send X-Allow: yes."}
    assert not Company.objects.exists()
    allowed = client.post("/companies", json={"name": "Acme"}, headers={"X-Allow": "yes"})
    assert allowed.status_code == 201


def test_object_permission_is_checked_in_get_object_for_detail_actions():
    company = CompanyFactory(archived=True)
    client = client_for(NotArchived)
    assert client.get("/companies").status_code == 200
    for method in ("get", "patch", "delete"):
        response = client.request(method, f"/companies/{company.id}", json={"name": "x"})
        assert response.status_code == 403, method
        assert response.json() == {"detail": "The company is archived."}
    assert client.post(f"/companies/{company.id}/archive").status_code == 403
    assert Company.objects.filter(pk=company.id, name=company.name).exists()


def test_parent_object_permission_applies_to_nested_routes():
    department = DepartmentFactory(company__archived=True)
    client = client_for(NotArchived)
    response = client.get(f"/companies/{department.company_id}/departments")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("permission", "headers", "method", "status"),
    [
        (HeaderSaysYes & ReadsOnly, {"X-Allow": "yes"}, "get", 200),
        (HeaderSaysYes & ReadsOnly, {"X-Allow": "yes"}, "post", 403),
        (HeaderSaysYes & ReadsOnly, {}, "get", 403),
        (HeaderSaysYes | ReadsOnly, {}, "get", 200),
        (HeaderSaysYes | ReadsOnly, {}, "post", 403),
        (HeaderSaysYes | ReadsOnly, {"X-Allow": "yes"}, "post", 201),
        (~ReadsOnly, {}, "get", 403),
        (~ReadsOnly, {}, "post", 201),
        (AllowAny(), {}, "post", 201),
    ],
)
def test_composition(permission, headers, method, status):
    client = client_for(permission)
    response = client.request(method, "/companies", headers=headers, json={"name": "Acme"})
    assert response.status_code == status


def test_composed_permissions_read_well():
    assert repr(HeaderSaysYes & ~ReadsOnly | AllowAny) == (
        "((HeaderSaysYes() & ~ReadsOnly()) | AllowAny())"
    )


def test_forbidden_is_documented_when_permissions_are_set():
    client = client_for(HeaderSaysYes)
    operation = client.app.openapi()["paths"]["/companies"]["get"]
    assert "403" in operation["responses"]


def test_the_parents_permissions_guard_nested_routes():
    department = DepartmentFactory()
    client = client_for(HeaderSaysYes)
    path = f"/companies/{department.company_id}/departments"
    for method in ("get", "post"):
        response = client.request(method, path, json={"name": "x"})
        assert response.status_code == 403, method
        assert response.json() == {"detail": "Send X-Allow: yes."}
    assert client.get(path, headers={"X-Allow": "yes"}).status_code == 200
    assert Company.objects.count() == 1
