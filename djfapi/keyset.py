"""Positions in a list's ordering, for keyset (cursor) pages.

A position is the values of the ordering's keys at one row. :func:`dump_value` and
:func:`load_value` carry each value through JSON exactly, with its type (a datetime keeps its
microseconds and offset, a Decimal its digits, a UUID stays a UUID), and :func:`beyond` selects
the rows after a position, or before it when walking backwards::

    keys = ordering_keys(queryset)                      # ..., always ending with the pk
    values = [key.value_of(row) for key in keys]        # where a page ended
    queryset.filter(beyond(keys, values, backwards=False)).order_by(*orderings(keys, False))

NULL sorts as if it were larger than any value, on every database: last in an ascending
key, first in a descending one (PostgreSQL's default; the ORDER BY says NULLS LAST/FIRST so
SQLite agrees). Walking backwards is then exactly the reverse order.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, OrderBy, Q, QuerySet

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["Key", "Position", "beyond", "dump_value", "load_value", "ordering_keys", "orderings"]


@dataclass(frozen=True)
class Key:
    """One key of an ordering: a field path, its direction, and whether it can be NULL."""

    path: str
    descending: bool
    nullable: bool

    def order(self, backwards: bool) -> OrderBy:
        """This key in an ORDER BY, NULLs as the largest value; reversed when walking backwards."""
        if self.descending != backwards:
            return F(self.path).desc(nulls_first=True if self.nullable else None)
        return F(self.path).asc(nulls_last=True if self.nullable else None)

    def past(self, value: Any, backwards: bool) -> Q | None:
        """Rows whose value of this key comes after ``value``; None when none can."""
        if self.descending != backwards:  # larger values, then NULLs, come first
            return Q(**{f"{self.path}__isnull": False}) if value is None else Q(**{f"{self.path}__lt": value})
        if value is None:  # nothing is larger than NULL
            return None
        larger = Q(**{f"{self.path}__gt": value})
        return larger | Q(**{f"{self.path}__isnull": True}) if self.nullable else larger

    def at(self, value: Any) -> Q:
        """Rows whose value of this key equals ``value`` (NULL included)."""
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})

    def value_of(self, row: Any) -> Any:
        """This key's value at ``row`` (a model instance, or a dict read by ``values()``)."""
        if isinstance(row, dict):
            return row[self.path]
        for part in self.path.split("__"):
            row = row.pk if part == "pk" else getattr(row, part)
            if row is None:
                break
        return row


@dataclass(frozen=True)
class Position:
    """Where a page ended, as a cursor holds it: the keys' values there, which way the page
    after it reads, and whether it takes the row at the position too."""

    values: list[Any]
    backwards: bool
    inclusive: bool
    ordering: list[Any]  # the model and keys it was made for: a cursor fits one list and order


def ordering_keys(queryset: QuerySet[Any]) -> list[Key]:
    """The keys of ``queryset``'s ordering, ending with the primary key."""
    names = list(queryset.query.order_by) or list(queryset.model._meta.ordering or [])
    if any(not isinstance(name, str) or name == "?" for name in names):
        raise ImproperlyConfigured(
            f"CursorPagination pages {queryset.model.__name__} by field names; order by fields, "
            "not expressions or '?'.")
    reversed_ = not queryset.query.standard_ordering  # .reverse() was called
    keys = [_key(queryset, name.lstrip("-"), name.startswith("-") != reversed_)
            for name in names if isinstance(name, str)]  # all are: checked above
    if not keys or keys[-1].path not in ("pk", queryset.model._meta.pk.name):
        keys.append(Key("pk", bool(keys) and keys[-1].descending, nullable=False))
    return keys


def orderings(keys: list[Key], backwards: bool) -> list[OrderBy]:
    """The ORDER BY of ``keys``, reversed when walking backwards."""
    return [key.order(backwards) for key in keys]


def beyond(keys: list[Key], values: list[Any], backwards: bool, inclusive: bool = False) -> Q:
    """Rows after the position ``values`` in the order of ``keys`` (before it, walking backwards);
    with ``inclusive``, the row at the position too."""
    condition, equal = Q(), Q()
    for key, value in zip(keys, values, strict=True):
        past = key.past(value, backwards)
        if past is not None:
            condition |= equal & past
        equal &= key.at(value)
    if inclusive:
        condition |= equal
    return condition or Q(pk__in=[])  # an empty Q would match every row


def _key(queryset: QuerySet[Any], path: str, descending: bool) -> Key:
    """The key ``path`` names; a path that ends at a relation orders by its column."""
    if path in queryset.query.annotations:
        return Key(path, descending, nullable=True)
    current: type[Model] | None = queryset.model
    parts, nullable = path.split("__"), False
    for index, part in enumerate(parts):
        field = _field(current, part)
        if field is None:
            raise ImproperlyConfigured(
                f"CursorPagination cannot page {queryset.model.__name__} by {path!r}: "
                f"{part!r} is not a field; order by fields of the model and its relations.")
        nullable |= bool(field.null) or not field.concrete  # a reverse relation may find nothing
        current = field.related_model if field.is_relation else None
        if field.is_relation and field.concrete and index == len(parts) - 1:
            parts[index] = field.attname
    return Key("__".join(parts), descending, nullable)


def _field(model: type[Model] | None, name: str) -> Any:
    """The field ``name`` of ``model``, or None."""
    if model is None:
        return None
    try:
        return model._meta.pk if name == "pk" else model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


# -- values through JSON ------------------------------------------------------------------------
# JSON's own types (None, bool, int of any size, float, str) go as they are; others as
# [type, text], in an order where a subclass (datetime) comes before its base (date).

_TYPED: dict[str, tuple[type, Callable[[Any], str], Callable[[str], Any]]] = {
    "datetime": (datetime.datetime, datetime.datetime.isoformat, datetime.datetime.fromisoformat),
    "date": (datetime.date, datetime.date.isoformat, datetime.date.fromisoformat),
    "time": (datetime.time, datetime.time.isoformat, datetime.time.fromisoformat),
    "timedelta": (datetime.timedelta, lambda value: str(value // datetime.timedelta(microseconds=1)),
                  lambda text: datetime.timedelta(microseconds=int(text))),
    "decimal": (decimal.Decimal, str, decimal.Decimal),
    "uuid": (uuid.UUID, str, uuid.UUID),
    "bytes": (bytes, lambda value: base64.b64encode(value).decode(), base64.b64decode),
}
_PLAIN = (type(None), bool, int, float, str)


def dump_value(value: Any) -> Any:
    """``value`` as JSON that :func:`load_value` turns back into an equal value of its type."""
    if isinstance(value, memoryview):
        value = bytes(value)
    for tag, (kind, dump, _) in _TYPED.items():
        if isinstance(value, kind):
            return [tag, dump(value)]
    if isinstance(value, _PLAIN):
        return value
    raise TypeError(f"CursorPagination cannot keep a position at a {type(value).__name__} value.")


def load_value(data: Any) -> Any:
    """The value :func:`dump_value` made ``data`` from; ValueError when it made no such thing."""
    if isinstance(data, list):
        tag, text = data
        return _TYPED[tag][2](text)
    if isinstance(data, _PLAIN):
        return data
    raise ValueError(f"not a position value: {data!r}")
