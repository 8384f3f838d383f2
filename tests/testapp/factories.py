"""factory-boy factories of the test domain."""

import factory

from tests.testapp import models


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company

    tenant_id = "tenant-a"
    name = factory.Sequence(lambda n: f"Company {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Team

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Office

    company = factory.SubFactory(CompanyFactory)
    city = factory.Sequence(lambda n: f"City {n}")


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Country
        django_get_or_create = ("code",)

    code = "DE"
    name = "Germany"
