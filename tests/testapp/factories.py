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


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Employee

    company = factory.SubFactory(CompanyFactory)
    user_id = factory.Sequence(lambda n: f"user-{n}")


class CostcenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Costcenter

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"CC{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tag

    tenant_id = "tenant-a"
    label = factory.Sequence(lambda n: f"tag-{n}")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Author

    tenant_id = "tenant-a"
    name = factory.Sequence(lambda n: f"Author {n}")
    created_by = "alice"


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Book

    author = factory.SubFactory(AuthorFactory)
    title = factory.Sequence(lambda n: f"Book {n}")
    created_by = "alice"


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Review

    book = factory.SubFactory(BookFactory)
    text = factory.Sequence(lambda n: f"Review {n}")
    created_by = "alice"
