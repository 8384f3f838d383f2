"""The test domain: tenants' companies with departments and teams, plus odd primary keys."""

import uuid

from django.db import models


class Company(models.Model):
    tenant_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=100, unique=True)
    archived = models.BooleanField(default=False)
    created_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class Team(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class Office(models.Model):
    """A UUID primary key, nested under a company."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="offices")
    city = models.CharField(max_length=100)


class Country(models.Model):
    """A text primary key."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "countries"


class Transfer(models.Model):
    """Two ForeignKeys to Company, so its parent FK must be named."""

    source = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    amount = models.IntegerField()
