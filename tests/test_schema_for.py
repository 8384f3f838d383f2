"""schema_for: pydantic models generated from Django models, and what OpenAPI shows of them."""

import datetime
import decimal
import typing
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from djfapi import ModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.schemas import schema_for
from tests.testapp import models
from tests.testapp.factories import CompanyFactory


def test_types_and_constraints_carry_over():
    schema = schema_for(models.Costcenter)
    fields = schema.model_fields
    assert list(fields) == ["id", "company_id", "code", "kind", "budget", "starts_on", "meta",
                            "status", "updated_at"]
    assert fields["id"].annotation is int and fields["id"].is_required()
    assert fields["company_id"].annotation is int  # ForeignKey as <name>_id, typed as its target
    assert fields["code"].annotation is str
    assert fields["code"].description == "Unique per company."
    assert typing.get_args(fields["kind"].annotation) == ("opex", "capex")  # choices as Literal
    assert fields["kind"].default == "opex"
    assert fields["budget"].annotation is decimal.Decimal
    assert fields["starts_on"].annotation == datetime.date | None  # null -> optional
    assert fields["starts_on"].default is None
    assert fields["meta"].default_factory is dict
    assert fields["updated_at"].annotation is datetime.datetime
    assert schema_for(models.Office).model_fields["id"].annotation is uuid.UUID
    assert schema_for(models.Country).model_fields["code"].annotation is str


def test_validation_follows_the_model():
    schema = schema_for(models.Costcenter, exclude=["id", "updated_at"])
    ok = schema(company_id=1, code="C1", budget="12.50")
    assert ok.budget == decimal.Decimal("12.50")
    for bad in ({"code": "X" * 11}, {"code": ""}, {"kind": "bogus"}, {"budget": "1.234"},
                {"budget": "12345678901"}):
        with pytest.raises(ValidationError):
            schema(company_id=1, **{"code": "C1", **bad})


def test_openapi_shows_the_constraints():
    schema = schema_for(models.Costcenter, fields=["code", "kind", "budget"], name="CostcenterIn")
    properties = schema.model_json_schema()["properties"]
    assert properties["code"]["maxLength"] == 10
    assert properties["code"]["minLength"] == 1  # not blank=True: "" is refused
    assert properties["kind"]["enum"] == ["opex", "capex"]
    assert schema.__name__ == "CostcenterIn"


def test_optional_makes_every_field_default_to_none():
    schema = schema_for(models.Company, fields=["name", "archived"], optional=True)
    assert schema().model_dump() == {"name": None, "archived": None}


def test_unknown_field_names_fail():
    with pytest.raises(ImproperlyConfigured, match=r"\['nmae'\] are not concrete fields"):
        schema_for(models.Company, fields=["nmae"])


def test_a_simple_resource_needs_no_hand_written_schema():
    class CountryViewSet(ModelViewSet):
        model = models.Country
        schemas = Schemas(get=schema_for(models.Country),
                          create=schema_for(models.Country, name="CountryIn"),
                          update=schema_for(models.Country, exclude=["code"], name="CountryUpdate"))

    router = Router()
    router.register("countries", CountryViewSet)
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.post("/countries", json={"code": "DE", "name": "Germany"}).status_code == 201
    assert client.patch("/countries/DE", json={"name": "Deutschland"}).json() == {
        "code": "DE", "name": "Deutschland",
    }
    assert client.post("/countries", json={"code": "DEU", "name": "x"}).status_code == 422
    # a natural key is the client's on create, but never overwrites an existing row
    again = client.post("/countries", json={"code": "DE", "name": "Overwritten?"})
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"] == ["body", "code"]
    assert models.Country.objects.get().name == "Deutschland"
    CompanyFactory(country_id="DE")
    assert client.put("/countries/DE", json={"name": "Germany"}).json()["code"] == "DE"
