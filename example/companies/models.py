"""The demo's domain: tenants' companies with departments (and their teams), cost centers and
employees."""

from django.db import models


class Company(models.Model):
    tenant_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=100)
    archived = models.BooleanField(default=False)
    created_by = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="company_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Costcenter(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        DELETED = "deleted"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="costcenters")
    code = models.CharField(max_length=20)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Employee(models.Model):
    class Type(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="employees")
    user_id = models.CharField(max_length=64)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.MEMBER)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.type})"
