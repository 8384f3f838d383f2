"""Where a model keeps its tenant, found the way a row is owned: through required ForeignKeys
before nullable ones, up to six ForeignKeys away; farther, registering a secured viewset says
which path to name, so no model's rows are silently every tenant's."""

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions import JWTBearer
from djfapi.tenancy import tenant_lookup
from djfapi.testing import Client
from tests.testapp import models

pytestmark = pytest.mark.django_db

token = JWTBearer()


class BadgeOut(BaseModel):
    id: int
    label: str


class BadgeIn(BaseModel):
    label: str
    member_id: int
    sponsor_id: int | None = None


class BadgeViewSet(ModelViewSet):
    model = models.Badge
    schemas = Schemas(get=BadgeOut, create=BadgeIn, update=BadgeIn)
    security = token


def badge(tenant: str, label: str, sponsor: models.Company | None = None) -> models.Badge:
    company = models.Company.objects.create(tenant_id=tenant, name=f"{label} company")
    team = models.Team.objects.create(department=models.Department.objects.create(company=company, name="d"),
                                      name="t")
    member = models.Member.objects.create(team=team, name="m")
    return models.Badge.objects.create(member=member, sponsor=sponsor, label=label)


@pytest.fixture
def clients():
    router = Router()
    router.register("badges", BadgeViewSet)
    app = FastAPI()
    app.include_router(router)
    return {tenant: Client(app).authenticate([], tenant=tenant) for tenant in ("a", "b")}


def test_a_model_four_foreign_keys_away_is_limited_to_its_tenant(clients):
    mine, theirs = badge("a", "mine"), badge("b", "theirs")
    assert [row["label"] for row in clients["a"].get("/badges").json()["items"]] == ["mine"]
    assert clients["a"].get(f"/badges/{theirs.pk}").status_code == 404
    assert clients["a"].patch(f"/badges/{theirs.pk}", json={"label": "taken"}).status_code == 404
    assert clients["a"].delete(f"/badges/{theirs.pk}").status_code == 404
    models.Badge.objects.get(pk=theirs.pk, label="theirs")
    # a body may not point a new badge at another tenant's member
    response = clients["a"].post("/badges", json={"label": "x", "member_id": theirs.member_id})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "member_id"]
    assert clients["a"].post("/badges", json={"label": "x", "member_id": mine.member_id}).status_code == 201


def test_the_tenant_is_the_owners_not_a_nullable_references(clients):
    assert tenant_lookup(models.Badge, "tenant_id") == "member__team__department__company__tenant_id"
    sponsor_b = models.Company.objects.create(tenant_id="b", name="Sponsor")
    sponsored = badge("a", "sponsored by b", sponsor=sponsor_b)
    assert [row["label"] for row in clients["a"].get("/badges").json()["items"]] == ["sponsored by b"]
    assert clients["b"].get("/badges").json()["items"] == []
    sponsor_b.delete()  # SET_NULL: the badge loses its sponsor, not its tenant
    assert clients["a"].get(f"/badges/{sponsored.pk}").json()["label"] == "sponsored by b"


def test_a_secured_model_farther_than_tenancy_looks_fails_at_registration():
    class TickViewSet(ModelViewSet):
        model = models.BadgeTick
        schemas = Schemas(get=BaseModel)
        security = token

    path = "mark__stamp__badge__member__team__department__company__tenant_id"
    with pytest.raises(ImproperlyConfigured, match=f"name the path: tenant_field = '{path}'"):
        Router().register("ticks", TickViewSet)

    class Named(TickViewSet):
        tenant_field = path

    class Shared(TickViewSet):
        tenant_field = None

    for viewset in (Named, Shared):
        Router().register("ticks", viewset)
