"""A row with a nullable field of every type a list can be ordered by, for cursor walks."""

from django.db import models


class Ordered(models.Model):
    moment = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    clock = models.TimeField(null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    ref = models.UUIDField(null=True)
    ratio = models.FloatField(null=True)
    big = models.BigIntegerField(null=True)
    text = models.CharField(max_length=40, null=True)
    span = models.DurationField(null=True)
    flag = models.BooleanField(null=True)
    label = models.CharField(max_length=40, default="")  # not nullable

    class Meta:
        app_label = "testapp"
        ordering = ["id"]
