"""factory-boy factories of the demo domain; `manage.py demo_data` loads its demo data with them."""

import factory

from companies import models


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company

    tenant_id = "tenant-a"
    name = factory.Sequence(lambda n: f"Company {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department

    company = factory.SubFactory(CompanyFactory)
    name = factory.Iterator(["Sales", "Engineering", "Finance", "Support"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Team

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class CostcenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Costcenter

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"CC-{n:03}")
    budget = factory.Iterator(["1000.00", "25000.00", "480.50"])


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Employee

    company = factory.SubFactory(CompanyFactory)
    user_id = factory.Sequence(lambda n: f"user-{n}")
