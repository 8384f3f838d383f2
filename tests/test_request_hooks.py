"""Per-request hooks, as in DRF: ``get_schema(self)`` and ``get_response_schema(self)`` may
narrow what was declared for one caller, ``get_schema_context(self)`` reaches pydantic's
validators and serializers as ``info.context``; build-time hooks are ``declared_*``
classmethods, and a hook in the wrong form is refused at registration."""

import logging

import pytest
from fastapi import FastAPI
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_serializer,
    field_validator,
)

import djfapi
import djfapi.schemas
from djfapi import Router
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import BasePermission
from djfapi.testing import Client
from tests.testapp import api
from tests.testapp.factories import CompanyFactory
from tests.testapp.models import Company, Department


class CompanyPublic(BaseModel):
    id: int
    name: str


class CompanyRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)


class CompanyWider(BaseModel):
    id: int
    name: str
    tenant_id: str


def is_staff(viewset):
    return viewset.request.headers.get("x-role") == "staff"


class NarrowedViewSet(api.CompanyViewSet):
    """Staff see and change everything; others see id and name, and may only rename."""

    def get_response_schema(self):
        return super().get_response_schema() if is_staff(self) else CompanyPublic

    def get_schema(self):
        if self.action == "update" and not is_staff(self):
            return CompanyRename
        return super().get_schema()


class ContextIn(BaseModel):
    name: str = Field(max_length=100)

    @field_validator("name")
    @classmethod
    def not_the_tenant(cls, value: str, info: ValidationInfo) -> str:
        tenant = info.context["request"].headers.get("x-tenant", "tenant-a")
        if tenant in value:
            raise ValueError(f"a name may not contain the tenant {tenant!r}")
        return value


class ContextOut(BaseModel):
    id: int
    name: str

    @field_serializer("name")
    def shown_for(self, name: str, info) -> str:
        user = info.context["viewset"].request.headers.get("x-user", "-")
        return f"{name} ({info.context['action']} by {user})"


class ContextViewSet(api.CompanyViewSet):
    schemas = djfapi.Schemas(get=ContextOut, create=ContextIn, update=ContextIn)


def client_for(viewset):
    router = Router()
    router.register("companies", viewset)
    app = FastAPI()
    djfapi.install(app)
    app.include_router(router)
    return Client(app, raise_server_exceptions=False)


def test_get_response_schema_narrows_what_one_caller_sees():
    company = CompanyFactory(name="Acme", created_by="alice")
    client = client_for(NarrowedViewSet)
    staff = {"X-Role": "staff"}
    assert client.get(f"/companies/{company.id}").json() == {"id": company.id, "name": "Acme"}
    assert client.get("/companies").json()["items"] == [{"id": company.id, "name": "Acme"}]
    shown = client.get(f"/companies/{company.id}", headers=staff).json()
    assert shown == {"id": company.id, "name": "Acme", "archived": False, "created_by": "alice"}
    # OpenAPI documents the declared schema, which every narrower one fits.
    documented = client.app.openapi()["paths"]["/companies/{company_id}"]["get"]["responses"]["200"]
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CompanyOut"}


def test_an_etag_is_that_of_what_the_caller_was_shown():
    company = CompanyFactory(name="Acme")
    client = client_for(NarrowedViewSet)
    tag = client.get(f"/companies/{company.id}").headers["etag"]
    response = client.put(f"/companies/{company.id}", json={"name": "Acme 2"}, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert Company.objects.get().name == "Acme 2"
    stale = client.put(f"/companies/{company.id}", json={"name": "Acme 3"}, headers={"If-Match": tag})
    assert stale.status_code == 412


def test_get_schema_narrows_what_one_caller_may_write():
    company = CompanyFactory(name="Acme")
    client = client_for(NarrowedViewSet)
    refused = client.put(f"/companies/{company.id}", json={"name": "Acme", "archived": True})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "archived"]
    assert Company.objects.get().archived is False
    allowed = client.put(f"/companies/{company.id}", json={"name": "Acme", "archived": True},
                         headers={"X-Role": "staff"})
    assert allowed.status_code == 200
    assert Company.objects.get().archived is True


def test_a_wider_response_schema_is_refused_loudly(caplog):
    class Wider(api.CompanyViewSet):
        def get_response_schema(self):
            return CompanyWider

    company = CompanyFactory(name="Acme", tenant_id="secret-tenant")
    with caplog.at_level(logging.ERROR, logger="djfapi"):
        response = client_for(Wider).get(f"/companies/{company.id}")
    assert response.status_code == 500
    assert "secret-tenant" not in response.text
    assert "fields the declared CompanyOut has not: ['tenant_id']" in caplog.text


def test_the_schema_context_reaches_validators_and_serializers():
    client = client_for(ContextViewSet)
    refused = client.post("/companies", json={"name": "tenant-b shop"}, headers={"X-Tenant": "tenant-b"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]
    assert "may not contain the tenant 'tenant-b'" in refused.json()["detail"][0]["msg"]
    assert not Company.objects.exists()
    headers = {"X-Tenant": "tenant-b", "X-User": "bob"}
    created = client.post("/companies", json={"name": "Shop"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Shop (create by bob)"
    listed = client.get("/companies", headers={"X-User": "eve"}).json()["items"]
    assert listed[0]["name"] == "Shop (list by eve)"


def test_an_invalid_body_is_refused_before_any_query(query_log):
    client = client_for(ContextViewSet)
    response = client.post("/companies", json={"name": "tenant-a"})
    assert response.status_code == 422
    assert query_log == []


@pytest.mark.parametrize("old, new", [
    ("get_scopes", "declared_scopes"), ("get_security", "declared_security"),
    ("get_filterset", "declared_filterset"), ("get_ordering", "declared_ordering"),
    ("get_pagination_class", "declared_pagination_class"),
])
def test_build_time_hooks_of_earlier_versions_are_refused_with_their_new_name(old, new):
    hook = classmethod(lambda cls: None)
    viewset = type("Renamed", (api.CompanyViewSet,), {old: hook})
    message = f"Renamed.{old} is read once, at registration, and is now called {new}"
    with pytest.raises(ImproperlyConfigured, match=message):
        Router().register("companies", viewset)


def test_a_per_request_hook_written_as_a_classmethod_is_refused():
    class OldStyle(api.CompanyViewSet):
        @classmethod
        def get_schema(cls, action):
            return None

    message = r"OldStyle.get_schema runs for each request: write it as an instance method"
    with pytest.raises(ImproperlyConfigured, match=message + r", `def get_schema\(self\)`.*declared_schema"):
        Router().register("companies", OldStyle)


def test_a_build_time_hook_written_as_an_instance_method_is_refused():
    class Instance(api.CompanyViewSet):
        def declared_response_schema(self, action):
            return None

    message = "Instance.declared_response_schema must stay a classmethod"
    with pytest.raises(ImproperlyConfigured, match=message):
        Router().register("companies", Instance)


class DepartmentName(BaseModel):
    id: int
    name: str


class DepartmentWider(DepartmentName):
    company_id: int


class CompanyWithDepartments(BaseModel):
    id: int
    name: str
    departments: list[DepartmentName] = []


class RemappedName(BaseModel):
    id: int
    name: str = djfapi.schemas.Field(orm_field=Company.tenant_id)


class WiderNested(BaseModel):
    id: int
    departments: list[DepartmentWider] = []


class WithComputed(BaseModel):
    id: int
    name: str

    @computed_field
    def shout(self) -> str:
        return self.name.upper()


class AuditedName(BaseModel):
    id: int
    name: str = djfapi.schemas.Field(scopes=["business.companies.audit.any"])


class UnscopedName(BaseModel):
    id: int
    name: str


@pytest.mark.parametrize(("declared", "narrowed", "named"), [
    (CompanyWithDepartments, RemappedName, "['name']"),
    (CompanyWithDepartments, WiderNested, "['departments.company_id']"),
    (CompanyWithDepartments, WithComputed, "['shout']"),
    (AuditedName, UnscopedName, "['name']"),
])
def test_a_schema_that_only_looks_narrower_is_refused(caplog, declared, narrowed, named):
    class Sneaky(api.CompanyViewSet):
        schemas = djfapi.Schemas(get=declared)

        def get_response_schema(self):
            return narrowed

    company = CompanyFactory(name="Acme", tenant_id="secret-tenant")
    company.departments.create(name="Sales")
    with caplog.at_level(logging.ERROR, logger="djfapi"):
        response = client_for(Sneaky).get(f"/companies/{company.id}")
    assert response.status_code == 500
    assert "secret-tenant" not in response.text and "company_id" not in response.text
    assert f"has fields the declared {declared.__name__} has not: {named}" in caplog.text


class NameOnlyViewSet(api.CompanyViewSet):
    """The README's pattern: others may only rename, by PUT or by PATCH."""

    def get_schema(self):
        if self.action in ("update", "partial_update") and not is_staff(self):
            return CompanyPublicIn
        return super().get_schema()


class CompanyPublicIn(BaseModel):
    name: str = Field(max_length=100)


def test_a_narrower_body_schema_is_partial_on_patch_and_refuses_what_it_withholds():
    company = CompanyFactory(name="Acme")
    client = client_for(NameOnlyViewSet)
    renamed = client.patch(f"/companies/{company.id}", json={"name": "Acme 2"})
    assert renamed.status_code == 200, renamed.text
    for method in ("put", "patch"):
        body = {"name": "Acme 3", "archived": True}
        refused = getattr(client, method)(f"/companies/{company.id}", json=body)
        assert refused.status_code == 422, method
        message = "This field cannot be set by you: leave it out."
        assert refused.json()["detail"] == [{"type": "withheld_field", "loc": ["body", "archived"],
                                             "input": True, "msg": message}]
    assert Company.objects.get().name == "Acme 2" and not Company.objects.get().archived
    staff = client.patch(f"/companies/{company.id}", json={"archived": True}, headers={"X-Role": "staff"})
    assert staff.status_code == 200 and Company.objects.get().archived


class DepartmentIn(BaseModel):
    name: str = Field(max_length=100)

    @field_validator("name")
    @classmethod
    def not_the_company_name(cls, name: str, info: ValidationInfo) -> str:
        parent = info.context["viewset"].parent
        if name == parent.name:
            raise ValueError(f"{name!r} is the company's own name")
        return name


class DepartmentOut(BaseModel):
    id: int
    name: str


class ParentAwareDepartments(djfapi.ModelViewSet):
    model = Department
    schemas = djfapi.Schemas(get=DepartmentOut, create=DepartmentIn)


class SaysNo(BasePermission):
    message = "No."

    def has_permission(self, viewset):
        return viewset.request.headers.get("x-allow") == "yes"


def test_validators_see_the_parent_and_permissions_come_before_the_body():
    router = Router()
    router.register("companies", api.CompanyViewSet)
    guarded = type("Guarded", (ParentAwareDepartments,), {"permission_classes": [SaysNo]})
    router.register("departments", guarded, parent=api.CompanyViewSet)
    app = FastAPI()
    app.include_router(router)
    client = Client(app)
    company = CompanyFactory(name="Acme")
    path = f"/companies/{company.id}/departments"
    assert client.post(path, json={"name": 5}).json() == {"detail": "No."}  # 403 before the 422
    allowed = {"X-Allow": "yes"}
    refused = client.post(path, json={"name": "Acme"}, headers=allowed)
    assert refused.status_code == 422
    assert "'Acme' is the company's own name" in refused.json()["detail"][0]["msg"]
    assert client.post(path, json={"name": "Sales"}, headers=allowed).status_code == 201
