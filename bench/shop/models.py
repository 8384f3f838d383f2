"""The benchmark's models: companies with departments with teams.

Company has no default ordering (every list orders by ``id`` explicitly); departments and
teams are ordered by ``id`` so every competitor's prefetched lists come in the same order.
"""

from django.db import models
from django.utils import timezone


class Company(models.Model):
    name = models.CharField(max_length=100)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)


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
