"""djfapi.meta: fields by name, ``__`` paths and the Python type of a model field."""

import datetime
import uuid
from typing import Literal

import pytest
from django.db import models as django_models
from django.test.utils import isolate_apps
from fastapi import FastAPI

from djfapi import ModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.meta import (
    concrete_field,
    field_path,
    many_to_many,
    path_value_type,
    python_type,
    reverse_relation,
    walk,
)
from djfapi.testing import Client
from tests.testapp import api, models
from tests.testapp.factories import CompanyFactory, DepartmentFactory


def field(model, name):
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


@pytest.mark.parametrize(("model", "name", "expected"), [
    (models.Company, "pk", int),
    (models.Office, "pk", uuid.UUID),
    (models.Country, "pk", str),
    (models.Employee, "department", int),  # a ForeignKey: its target's pk
    (models.Company, "country", str),  # a ForeignKey to a text pk
    (models.Costcenter, "starts_on", str),  # a date in a URL is text
    (models.Costcenter, "kind", str),  # choices do not narrow a path value
    (models.Costcenter, "budget", str),
])
def test_path_value_type(model, name, expected):
    assert path_value_type(field(model, name)) is expected


@isolate_apps("tests.testapp")
def test_path_value_type_follows_a_primary_key_that_is_a_foreign_key():
    class Site(django_models.Model):
        id = django_models.UUIDField(primary_key=True)

        class Meta:
            app_label = "testapp"

    class SiteProfile(django_models.Model):
        site = django_models.OneToOneField(Site, primary_key=True, on_delete=django_models.CASCADE)

        class Meta:
            app_label = "testapp"

    class ProfileNote(django_models.Model):
        profile = django_models.OneToOneField(SiteProfile, primary_key=True, on_delete=django_models.CASCADE)

        class Meta:
            app_label = "testapp"

    assert path_value_type(SiteProfile._meta.pk) is uuid.UUID
    assert path_value_type(ProfileNote._meta.pk) is uuid.UUID  # two ForeignKeys away from the column


def test_python_type_of_choices_foreign_keys_and_unknown_fields():
    assert python_type(field(models.Costcenter, "kind")) == Literal["opex", "capex"]
    assert python_type(field(models.Costcenter, "starts_on")) is datetime.date
    assert python_type(field(models.Employee, "company")) is int
    with isolate_apps("tests.testapp"):
        class Point(django_models.Field):
            pass

        class Place(django_models.Model):
            where = Point()

            class Meta:
                app_label = "testapp"

    with pytest.raises(ImproperlyConfigured, match="no type known for Point Place.where"):
        python_type(Place._meta.get_field("where"))


def test_fields_by_name():
    assert concrete_field(models.Employee, "department_id") is field(models.Employee, "department")
    assert concrete_field(models.Company, "departments") is None  # a reverse relation is not concrete
    assert reverse_relation(models.Company, "departments").related_model is models.Department
    assert reverse_relation(models.Company, "name") is None
    assert many_to_many(models.Company, "tags") is field(models.Company, "tags")
    assert many_to_many(models.Tag, "companies") is None  # the reverse side is not declared here


def test_walk_follows_relations_and_stops_at_a_column():
    names = [f.name for f in walk(models.Company, "departments__teams__name")]
    assert names == ["departments", "teams", "name"]
    assert [f.name for f in walk(models.Company, "created_at__year")] == ["created_at"]  # a transform


def test_walk_names_the_part_that_is_no_field():
    with pytest.raises(ImproperlyConfigured, match="'nmae' is not a field of Department"):
        walk(models.Company, "departments__nmae")


def test_field_path_finds_the_shortest_foreign_key_path():
    assert field_path(models.Company, "tenant_id") == "tenant_id"
    assert field_path(models.Team, "tenant_id") == "department__company__tenant_id"
    assert field_path(models.Employee, "tenant_id") == "company__tenant_id"  # not department__company__
    assert field_path(models.Comment, "tenant_id") == "review__book__author__tenant_id"
    assert field_path(models.Comment, "tenant_id", depth=2) is None
    assert field_path(models.Country, "tenant_id") is None


def test_a_filter_through_a_to_many_relation_lists_each_row_once():
    class Companies(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=api.CompanyOut)
        filter_fields = ["departments__name"]

    router = Router()
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    company = CompanyFactory()
    DepartmentFactory.create_batch(2, company=company, name="Sales")
    body = Client(app).get("/companies", params={"departments__name": "Sales"}).json()
    assert [item["id"] for item in body["items"]] == [company.id]


def test_a_filter_field_that_names_no_field_fails_at_registration():
    class Companies(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=api.CompanyOut)
        filter_fields = ["departments__nmae"]

    with pytest.raises(ImproperlyConfigured, match="'departments__nmae' does not name a field of Company"):
        Router().register("companies", Companies)


def test_a_name_that_is_no_field_is_said_once_with_the_fields_there_are():
    with pytest.raises(ImproperlyConfigured) as raised:
        walk(models.Company, "nmae")
    message = str(raised.value)
    assert message.startswith("'nmae' is not a field of Company (its fields: ")
    assert message.count("nmae") == 1 and "name" in message
