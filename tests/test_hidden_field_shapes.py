"""Fields declared with scopes are left out wherever a response can hold them: in 0.0.x's
``create_multi`` answers (one row or a list), and a response that would hold them where they
cannot be left out (inside a dict, in a union with other types) is refused at registration."""

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas, action
from djfapi.exceptions import ImproperlyConfigured
from djfapi.routing.django import DjangoRouterSchema, SecurityScopes
from djfapi.schemas import Field
from djfapi.testing import Client
from tests.testapp import models, secured

AUDIT = "business.companies.audit.any"
SCOPES = ["business.companies.read.any", "business.companies.create"]


class AuditedOut(BaseModel):
    id: int
    name: str
    created_by: str = Field("", scopes=[AUDIT])


class NameIn(BaseModel):
    name: str


class OtherOut(BaseModel):
    id: int


def test_create_multi_answers_leave_scoped_fields_out_and_refuse_unknown_fields():
    node = DjangoRouterSchema(name="companies", model=models.Company, get=AuditedOut, create=NameIn,
                              create_multi=True, security=secured.token,
                              security_scopes=SecurityScopes(get=SCOPES[:1], post=SCOPES[1:]))
    app = FastAPI()
    app.include_router(node.router)
    client = Client(app).authenticate(SCOPES, tenant="t1", user="alice")
    one = client.post("/companies", json={"name": "One"})
    assert one.status_code == 201, one.text
    assert "created_by" not in one.json()
    many = client.post("/companies", json=[{"name": "Two"}, {"name": "Three"}])
    assert many.status_code == 201, many.text
    assert all("created_by" not in row for row in many.json())
    unknown = client.post("/companies", json=[{"name": "Four"}, {"name": "Five", "bogus": 1}])
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", 1, "bogus"]
    assert not models.Company.objects.filter(name__in=["Four", "Five"]).exists()


class ByName(BaseModel):
    companies: dict[str, AuditedOut]


class Either(BaseModel):
    item: AuditedOut | OtherOut


@pytest.mark.parametrize("returns", [dict[str, AuditedOut], ByName, Either])
def test_a_response_holding_scoped_fields_where_they_cannot_be_left_out_is_refused(returns):
    def by_name(self) -> returns:  # type: ignore[valid-type]
        return {}

    viewset = type("Listing", (ModelViewSet,), {
        "model": models.Company, "schemas": Schemas(get=AuditedOut),
        "by_name": action(detail=False)(by_name)})
    with pytest.raises(ImproperlyConfigured, match="inside a dict or a union"):
        Router().register("companies", viewset)


def test_a_0_0_x_route_neither_filters_nor_orders_by_a_scoped_field():
    node = DjangoRouterSchema(name="companies", model=models.Company, get=AuditedOut, security=secured.token,
                              security_scopes=SecurityScopes(get=SCOPES[:1]))
    app = FastAPI()
    app.include_router(node.router)
    models.Company.objects.create(name="A", tenant_id="t1", created_by="alice")
    client = Client(app).authenticate(SCOPES, tenant="t1", user="bob")
    assert client.get("/companies").json()["items"] == [{"id": models.Company.objects.get().id, "name": "A"}]
    for query in ({"created_by": "alice"}, {"created_by__istartswith": "a"}, {"order_by": "created_by"}):
        assert client.get("/companies", params=query).status_code == 422, query
