"""The lookups a filter field offers, each with the type its query value is read as.

``lookups_for("budget", field)`` gives ``[("budget", Decimal), ("budget__in", list[Decimal]),
("budget__range", two Decimals), ("budget__gt", Decimal), ...]``: text offers the text
lookups, numbers and moments the comparisons and ``range``, dates and datetimes their parts.
"""

from __future__ import annotations

import datetime
import decimal
import re
from typing import Annotated, Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Left, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic import Field as PydanticField

from djfapi.meta import python_type

__all__ = ["COMPARABLE", "condition", "lookups_for", "split_commas"]

COMPARABLE = (int, float, decimal.Decimal, datetime.date, datetime.datetime, datetime.time,
              datetime.timedelta)
TEXT_LOOKUPS = ("iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith")

_INT64 = Annotated[int, PydanticField(ge=-(2**63), le=2**63 - 1)]
# Django's week_day counts from Sunday (1) to Saturday (7), as its documentation says.
_DATE_PARTS = {"year": Annotated[int, PydanticField(ge=1, le=9999)],
               "quarter": Annotated[int, PydanticField(ge=1, le=4)],
               "month": Annotated[int, PydanticField(ge=1, le=12)],
               "day": Annotated[int, PydanticField(ge=1, le=31)],
               "week_day": Annotated[int, PydanticField(ge=1, le=7, description="1 is Sunday, 7 Saturday.")]}

_DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


def _plain_decimal(value: Any) -> Any:
    """``value`` if it is written ``-123.45``. pydantic also reads ``1_0``, `` 1``, ``1e3``,
    ``.5`` and ``Infinity``, which the documented pattern does not promise."""
    if isinstance(value, str) and not re.fullmatch(_DECIMAL_TEXT, value):
        raise ValueError("a decimal number such as -12.50 is expected")
    return value


def _iso_date(value: Any) -> Any:
    """``value`` if it starts with an ISO 8601 date. pydantic also reads a number of seconds
    since 1970 (``?created_at__lte=0.5``), which ``format: date-time`` does not promise."""
    if isinstance(value, str) and not re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("an ISO 8601 date such as 2026-01-31 (or date-time) is expected")
    return value


# A query value is text: a decimal is documented and checked as that text.
DECIMAL = Annotated[decimal.Decimal, BeforeValidator(_plain_decimal),
                    WithJsonSchema({"type": "string", "pattern": _DECIMAL_TEXT})]
DATE = Annotated[datetime.date, BeforeValidator(_iso_date)]
# RFC 3339 allows UTC offsets up to ±23:59; PostgreSQL (and so _in_every_database) ±15:59.
_MOMENT_SCHEMA = {"type": "string", "format": "date-time",
                  "pattern": r"(?:[Zz]|[+-](?:0[0-9]|1[0-5]):[0-5][0-9])$"}


def _in_every_database(value: datetime.datetime) -> datetime.datetime:
    """A datetime every database can compare with: a UTC offset within ±15:59 (PostgreSQL's)
    and a UTC equivalent inside years 1-9999. One without an offset (a date alone, too) is read
    in the current time zone (``TIME_ZONE``) with ``USE_TZ``, as Django's forms and DRF read it."""
    if settings.USE_TZ and timezone.is_naive(value):
        try:
            value = timezone.make_aware(value)
        except (OverflowError, ValueError):
            raise ValueError("the moment is outside years 1-9999 in UTC") from None
    offset = value.utcoffset()
    if offset is not None and abs(offset) >= datetime.timedelta(hours=16):
        raise ValueError("the UTC offset must be within ±15:59")
    if offset is not None:
        try:
            value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValueError("the moment is outside years 1-9999 in UTC") from None
    return value


MOMENT = Annotated[datetime.datetime, BeforeValidator(_iso_date), AfterValidator(_in_every_database),
                   WithJsonSchema(_MOMENT_SCHEMA)]


def split_commas(values: Any) -> Any:
    """``?x__in=a,b&x__in=c`` as ``["a", "b", "c"]``: comma-separated, repeated, or both, as in
    django-filter (a value holding a comma is matched with the exact filter instead)."""
    if isinstance(values, list):
        return [part for value in values
                for part in (value.split(",") if isinstance(value, str) else [value])]
    return values


def value_type(field_: models.Field[Any, Any]) -> Any:
    """The type one query value for ``field_`` is read as: an int no column holds is a 422,
    not a 500; decimals and dates in the one form documented."""
    base = python_type(field_)
    return {int: _INT64, decimal.Decimal: DECIMAL, datetime.date: DATE,
            datetime.datetime: MOMENT}.get(base, base)


def lookups_for(path: str, field_: models.Field[Any, Any], *,
                relation: models.Field[Any, Any] | None = None) -> list[tuple[str, Any]]:
    """The lookups that suit ``field_``'s type, as (lookup, value type). Through a ``relation``
    (a ForeignKey or many-to-many field holding ``field_``): only those Django has for it,
    equality, ``in``, comparisons and ``isnull``."""
    base, value = python_type(field_), value_type(field_)
    in_list = Annotated[list[value], BeforeValidator(split_commas)]  # type: ignore[valid-type]
    lookups: list[tuple[str, Any]] = [(path, value), (f"{path}__in", in_list)]
    comparable = base in COMPARABLE and not field_.choices
    if comparable:
        lookups += [(f"{path}__{op}", value) for op in ("gt", "gte", "lt", "lte")]
    if comparable and relation is None:
        pair = Annotated[list[value], BeforeValidator(split_commas),  # type: ignore[valid-type]
                         PydanticField(min_length=2, max_length=2,
                                       description="Two comma-separated values, lowest first.")]
        lookups.append((f"{path}__range", pair))
    if base in (datetime.date, datetime.datetime) and relation is None:
        lookups += [(f"{path}__{part}", kind) for part, kind in _DATE_PARTS.items()]
    if base is str and not field_.choices and relation is None:
        lookups += [(f"{path}__{lookup}", str) for lookup in TEXT_LOOKUPS]
    if (relation or field_).null or isinstance(field_, models.FileField):  # no file reads as null
        lookups.append((f"{path}__isnull", bool))
    return lookups


def condition(lookup: str, value: Any, *, file: bool = False) -> Q:
    """The rows ``lookup`` matches ``value`` in. ``contains``, ``startswith`` and ``endswith``
    compare case-sensitively in every database: Django's, made of ``LIKE``, ignore case on SQLite.
    On a ``file`` field, ``isnull`` takes no file (stored as ``""``, read as null) for null."""
    path, _, kind = lookup.rpartition("__")
    if file and kind == "isnull":
        empty = Q(**{lookup: True}) | Q(**{path: ""})
        return empty if value else ~empty
    if kind not in ("contains", "startswith", "endswith") or not value:
        return Q(**{lookup: value})
    if kind == "contains":
        return Q(GreaterThan(StrIndex(F(path), Value(value)), 0))
    end = (Left if kind == "startswith" else Right)(F(path), len(value))
    return Q(Exact(end, Value(value)))
