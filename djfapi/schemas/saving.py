"""Saving rows safely under concurrency: an update writes only the columns that changed and
never turns into an INSERT, and a nested list is read under a lock.

::

    remember_loaded(instance)      # right after reading it
    ...                            # the body and the hooks change some fields
    save_changes(instance)         # UPDATE of those columns; a row deleted meanwhile: 404
"""

from __future__ import annotations

import copy
import datetime
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, models, transaction
from django.http import Http404

__all__ = ["fits_a_column", "loaded_rows", "lock", "remember_loaded", "save_changes", "stored_as_written"]

_LOADED = "_djfapi_loaded"  # the stored values of an instance, as remember_loaded() saw them


def _stored_values(instance: models.Model) -> dict[str, Any]:
    """The concrete values ``instance`` holds (deferred ones left out, so none is fetched)."""
    return {field.attname: copy.deepcopy(instance.__dict__[field.attname])
            for field in instance._meta.concrete_fields if field.attname in instance.__dict__}


def remember_loaded(instance: models.Model) -> None:
    """Note what ``instance`` holds as read from the database, so that :func:`save_changes`
    writes only the columns that change after this."""
    setattr(instance, _LOADED, _stored_values(instance))


def save_changes(instance: models.Model) -> None:
    """Save an existing row as an UPDATE of the columns changed since :func:`remember_loaded`
    (and its ``auto_now`` fields), never an INSERT: two writes that change different fields
    both stand, and a row deleted meanwhile is a 404 instead of coming back."""
    loaded = getattr(instance, _LOADED, None)
    fields = [field for field in instance._meta.concrete_fields if not field.primary_key]
    if loaded is not None:
        current = _stored_values(instance)
        fields = [field for field in fields if getattr(field, "auto_now", False)
                  or (field.attname in current and current[field.attname] != loaded.get(field.attname))]
    gone = Http404(f"No {instance._meta.verbose_name} with id {instance.pk}: it was deleted meanwhile.")
    if not fields:  # nothing to write; the row must still be there all the same
        if not type(instance)._base_manager.filter(pk=instance.pk).exists():
            raise gone
        return
    try:
        instance.save(force_update=True, update_fields=[field.name for field in fields])
    except DatabaseError as exc:
        if "did not affect any rows" not in str(exc):  # Django's words for "no such row"
            raise
        raise gone from None
    remember_loaded(instance)


def fits_a_column(value: Any) -> bool:
    """False for an integer no 64-bit column holds: no row has such an id."""
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def lock(instance: models.Model) -> None:
    """Inside a transaction, lock ``instance``'s row until it ends (SELECT ... FOR UPDATE);
    ``DoesNotExist`` (a 404) when another request deleted it meanwhile."""
    model = type(instance)
    queryset = model._base_manager.filter(pk=instance.pk)
    in_transaction = transaction.get_connection(queryset.db).in_atomic_block
    if in_transaction and not list(queryset.select_for_update().values_list("pk", flat=True)):
        raise ObjectDoesNotExist(f"{str(model._meta.verbose_name).capitalize()} {instance.pk} was deleted.")


def loaded_rows(queryset: models.QuerySet[Any]) -> dict[Any, models.Model]:
    """The rows of ``queryset`` by pk, each remembered as loaded (see :func:`save_changes`) and,
    inside a transaction, locked until it ends: two requests synchronising one list take turns."""
    if transaction.get_connection(queryset.db).in_atomic_block:
        queryset = queryset.select_for_update()
    rows = {}
    for row in queryset:
        remember_loaded(row)
        rows[row.pk] = row
    return rows


# Django's own fields that store a value of this exact type and read back an equal one, so a
# write need not read it back; any other field (a decimal the column rounds, JSON the database
# normalises, a custom field) or value (an expression, an enum) is read back after a write.
_AS_WRITTEN: dict[type[models.Field[Any, Any]], type] = {
    **dict.fromkeys((models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
                     models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                     models.PositiveBigIntegerField, models.PositiveSmallIntegerField), int),
    **dict.fromkeys((models.CharField, models.TextField, models.SlugField, models.EmailField,
                     models.URLField), str),
    models.BooleanField: bool,
    models.UUIDField: uuid.UUID,
    models.DateField: datetime.date,
}


def stored_as_written(field: models.Field[Any, Any], value: Any) -> bool:
    """Whether the column of ``field`` gives back exactly ``value`` once it is written."""
    kind = _AS_WRITTEN.get(type(field))
    if kind is not None:
        return type(value) is kind
    if type(field) is models.DateTimeField and type(value) is datetime.datetime:
        # Read back in UTC (or naive without USE_TZ): a value in another zone comes back changed.
        offset = value.utcoffset()
        return offset == datetime.timedelta(0) if settings.USE_TZ else offset is None
    return False
