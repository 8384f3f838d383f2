"""Typed list queries: filters, search and ordering, declared on the viewset.

::

    class CompanyViewSet(ModelViewSet):
        filter_fields = ["name", "archived", "created_at", "departments__name"]
        search_fields = ["name", "departments__name"]
        ordering_fields = ["name", "created_at"]
        ordering = ["-created_at"]

``GET /companies?name__icontains=acme&!archived=true&created_at__year=2026&order_by=-name``.
Every parameter is typed and documented; a value of the wrong type, or an ``order_by`` that is
not allowed, is a 422 naming the parameter. The primary key always ends the ordering, so
pages are stable.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from fastapi import Query, Request
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic import Field as PydanticField

from djfapi.exceptions import InvalidInput
from djfapi.meta import python_type, walk

__all__ = ["FilterParam", "FilterSet", "ListQuery", "Ordering", "Search", "check_aggregate",
           "resolve_field"]

_COMPARABLE = (int, float, decimal.Decimal, datetime.date, datetime.datetime, datetime.time,
               datetime.timedelta)


def resolve_field(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    """The field ``path`` (``name``, ``company``, ``departments__name``) ends at: a ForeignKey's
    target column, a reverse relation as itself; ImproperlyConfigured when a part names none."""
    found = walk(model, path)[-1]
    if isinstance(found, models.ForeignKey):
        return found.target_field
    return found  # type: ignore[return-value]  # a reverse relation stands for its rows


@dataclass(frozen=True)
class FilterParam:
    """One filter query parameter: ``name__icontains``, or negated ``!name__icontains``."""

    lookup: str
    annotation: Any
    negated: bool = False
    spans_many: bool = False  # crosses a to-many relation, so matches may repeat rows

    @property
    def alias(self) -> str:
        return f"!{self.lookup}" if self.negated else self.lookup

    @property
    def identifier(self) -> str:
        return f"not__{self.lookup}" if self.negated else self.lookup


_INT64 = Annotated[int, PydanticField(ge=-(2**63), le=2**63 - 1)]
_DATE_PARTS = {"year": Annotated[int, PydanticField(ge=1, le=9999)],
               "month": Annotated[int, PydanticField(ge=1, le=12)],
               "day": Annotated[int, PydanticField(ge=1, le=31)]}


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
_DECIMAL = Annotated[decimal.Decimal, BeforeValidator(_plain_decimal),
                     WithJsonSchema({"type": "string", "pattern": _DECIMAL_TEXT})]
_DATE = Annotated[datetime.date, BeforeValidator(_iso_date)]
# RFC 3339 allows UTC offsets up to ±23:59; PostgreSQL (and so _in_every_database) ±15:59.
_MOMENT_SCHEMA = {"type": "string", "format": "date-time",
                  "pattern": r"(?:[Zz]|[+-](?:0[0-9]|1[0-5]):[0-5][0-9])$"}


def _in_every_database(value: datetime.datetime) -> datetime.datetime:
    """A datetime every database can compare with: a UTC offset within ±15:59 (PostgreSQL's)
    and a UTC equivalent inside years 1-9999."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) >= datetime.timedelta(hours=16):
        raise ValueError("the UTC offset must be within ±15:59")
    if offset is not None:
        try:
            value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValueError("the moment is outside years 1-9999 in UTC") from None
    return value


def _storable_datetime(kind: Any) -> Any:
    """``kind`` (a datetime, or a list of them) with each value checked by ``_in_every_database``."""
    moment = Annotated[datetime.datetime, BeforeValidator(_iso_date), AfterValidator(_in_every_database),
                       WithJsonSchema(_MOMENT_SCHEMA)]
    if kind is datetime.datetime:
        return moment
    return Annotated[list[moment], BeforeValidator(split_commas)]


def split_commas(values: Any) -> Any:
    """``?x__in=a,b&x__in=c`` as ``["a", "b", "c"]``: comma-separated, repeated, or both, as in
    django-filter (a value holding a comma is matched with the exact filter instead)."""
    if isinstance(values, list):
        return [part for value in values
                for part in (value.split(",") if isinstance(value, str) else [value])]
    return values


def lookups_for(path: str, field_: models.Field[Any, Any]) -> list[tuple[str, Any]]:
    """The lookups that suit ``field_``'s type, as (lookup, value type)."""
    base = python_type(field_)
    # an int no column holds is a 422, not a 500; decimals and dates in the one form documented
    value = {int: _INT64, decimal.Decimal: _DECIMAL, datetime.date: _DATE}.get(base, base)
    in_list = Annotated[list[value], BeforeValidator(split_commas)]  # type: ignore[valid-type]
    lookups: list[tuple[str, Any]] = [(path, value), (f"{path}__in", in_list)]
    if base in _COMPARABLE and not field_.choices:
        lookups += [(f"{path}__{op}", value) for op in ("gt", "gte", "lt", "lte")]
    if base is datetime.datetime:
        lookups = [(lookup, _storable_datetime(kind)) for lookup, kind in lookups]
    if base in (datetime.date, datetime.datetime):
        lookups += [(f"{path}__{part}", _DATE_PARTS[part]) for part in ("year", "month", "day")]
    if base is str and not field_.choices:
        lookups += [(f"{path}__icontains", str), (f"{path}__istartswith", str)]
    if field_.null:
        lookups.append((f"{path}__isnull", bool))
    return lookups


class FilterSet:
    """The filters of ``fields`` (``"__all__"``: the model's own non-relation fields)."""

    def __init__(self, model: type[models.Model], fields: Sequence[str] | str) -> None:
        if fields == "__all__":
            fields = [f.name for f in model._meta.concrete_fields if not f.is_relation]
        self.params: list[FilterParam] = []
        for path in fields:
            many = _spans_many(model, path)
            for lookup, annotation in lookups_for(path, resolve_field(model, path)):
                self.params.append(FilterParam(lookup, annotation, spans_many=many))
                if not lookup.endswith("__isnull"):
                    self.params.append(FilterParam(lookup, annotation, negated=True, spans_many=many))

    def parameters(self) -> list[inspect.Parameter]:
        """The query parameters, for an endpoint signature."""
        return [
            inspect.Parameter(
                param.identifier, inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[param.annotation | None, Query(
                    alias=param.alias,
                    description=f"Rows where {param.lookup.replace('__', ' ')}"
                                f"{' does not match' if param.negated else ''}."),
                ])
            for param in self.params
        ]

    def query_names(self) -> list[str]:
        """Query parameters read from the request directly rather than declared (none here)."""
        return []

    def read(self, values: dict[str, Any], request: Request) -> dict[FilterParam, Any]:
        """The filters given in a request's parsed ``values``."""
        return {param: values[param.identifier] for param in self.params
                if values.get(param.identifier) is not None}

    def filter_queryset(self, queryset: QuerySet[Any], given: dict[Any, Any]) -> QuerySet[Any]:
        for param, value in given.items():
            condition = Q(**{param.lookup: value})
            queryset = queryset.exclude(condition) if param.negated else queryset.filter(condition)
        return queryset.distinct() if any(param.spans_many for param in given) else queryset

    def asks_for(self, given: dict[Any, Any], field_name: str) -> bool:
        """Whether the request filters on ``field_name`` itself."""
        return any(getattr(p, "lookup", str(p)).split("__")[0] == field_name for p in given)


class DjangoFilterSet(FilterSet):
    """A django-filter ``FilterSet`` class in djfapi's place: its filters become query
    parameters (documented as strings) and it validates and applies them itself."""

    def __init__(self, filterset_class: Any) -> None:
        self.filterset_class = filterset_class
        self.params = [FilterParam(name, str) for name in filterset_class.base_filters]

    def query_names(self) -> list[str]:
        """What range and similar filters read: ``<name>_<suffix>`` for each of their widget's
        suffixes (``created_after``, ``budget_min``)."""
        names = []
        for name, filter_ in self.filterset_class.base_filters.items():
            suffixes = getattr(filter_.field.widget, "suffixes", None) or ()
            names += [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
        return names

    def read(self, values: dict[str, Any], request: Request) -> dict[Any, Any]:
        names = [*self.filterset_class.base_filters, *self.query_names()]
        return {name: request.query_params.getlist(name) for name in names if name in request.query_params}

    def filter_queryset(self, queryset: QuerySet[Any], given: dict[Any, Any]) -> QuerySet[Any]:
        data = {name: values if len(values) > 1 else values[0] for name, values in given.items()}
        filterset = self.filterset_class(data=data, queryset=queryset)
        if not filterset.is_valid():
            raise InvalidInput([{"loc": ["query", name], "msg": str(message), "type": "filter"}
                                for name, messages in filterset.errors.items() for message in messages])
        return filterset.qs  # type: ignore[no-any-return]


class Search:
    """``?search=``: every word must be contained (case-insensitively) in one of ``fields``.

    Each word is one condition on the listed rows: fields across a to-many relation are
    matched by an ``EXISTS`` subquery of their own, so the cost grows with the number of
    words instead of multiplying joins, and rows never repeat. At most ``max_words`` words of
    at most ``max_length`` characters in all; more is a 422.
    """

    max_words = 10
    max_length = 200

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        for path in fields:
            resolve_field(model, path)
        self.model = model
        self.fields = list(fields)
        self.many = {path: _spans_many(model, path) for path in fields}  # crosses a to-many relation

    def words(self, text: str | None) -> list[str]:
        """The words of ``text``; InvalidInput (422) past the limits."""
        words = (text or "").split()
        if len(words) > self.max_words or len(text or "") > self.max_length:
            raise InvalidInput.at(("query", "search"), f"Search for at most {self.max_words} words of "
                                  f"{self.max_length} characters in all.", "search")
        return words

    def filter_queryset(self, queryset: QuerySet[Any], text: str | None) -> QuerySet[Any]:
        condition = Q()
        for word in self.words(text):
            matches = Q()
            for path in self.fields:
                lookup = {f"{path}__icontains": word}
                if self.many[path]:
                    rows = self.model._base_manager.filter(pk=OuterRef("pk"), **lookup)
                    matches |= Q(Exists(rows))
                else:
                    matches |= Q(**lookup)
            condition &= matches
        return queryset.filter(condition) if condition else queryset


def _spans_many(model: type[models.Model], path: str) -> bool:
    """Whether ``path`` crosses a to-many relation, so that rows may match more than once."""
    return any(field.one_to_many or field.many_to_many for field in walk(model, path))


class Ordering:
    """``?order_by=`` (repeatable, ``-`` for descending) among ``fields``; ``default`` otherwise;
    the primary key always last."""

    def __init__(self, model: type[models.Model], fields: Sequence[str], default: Sequence[str]) -> None:
        for path in [*fields, *(name.lstrip("-") for name in default)]:
            resolve_field(model, path)
        self.fields = list(fields)
        self.default = list(default) or [str(name) for name in model._meta.ordering or []]
        choices = [value for name in fields for value in (name, f"-{name}")]
        self.choice: Any = (enum.Enum(f"{model.__name__}Ordering", {c: c for c in choices}, type=str)
                            if choices else None)

    def parameters(self) -> list[inspect.Parameter]:
        if self.choice is None:
            return []
        return [inspect.Parameter(
            "order_by", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[list[self.choice] | None, Query(  # type: ignore[name-defined]
                description="Sort by these fields, in turn; `-name` sorts descending.")],
        )]

    def order(self, queryset: QuerySet[Any], requested: Sequence[Any] | None) -> QuerySet[Any]:
        names = [str(getattr(item, "value", item)) for item in requested] if requested else self.default
        names = [name for name in names if name.lstrip("-") != "pk"]
        descending = bool(names) and names[-1].startswith("-")
        return queryset.order_by(*names, "-pk" if descending else "pk")


@dataclass
class ListQuery:
    """What a list (or aggregate) request asked for: filters, search text, ordering."""

    filters: dict[Any, Any] = field(default_factory=dict)
    search: str | None = None
    order_by: list[Any] | None = None


def query_dependency(filterset: FilterSet, search: Search | None, ordering: Ordering | None
                     ) -> Callable[..., Awaitable[ListQuery]]:
    """An async dependency whose signature declares every query parameter; no database work."""
    async def list_query(request: Request, **values: Any) -> ListQuery:
        return ListQuery(filterset.read(values, request), values.get("search"), values.get("order_by"))

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
                  *filterset.parameters()]
    if search is not None:
        parameters.append(inspect.Parameter(
            "search", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, Query(
                description=f"Words that must each appear in one of: {', '.join(search.fields)}.")],
        ))
    if ordering is not None:
        parameters.extend(ordering.parameters())
    list_query.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return list_query


_SUMMABLE = (int, float, decimal.Decimal, datetime.timedelta)


def check_aggregate(model: type[models.Model], function: str, path: str) -> None:
    """Raise InvalidInput (422) for an aggregate the database cannot compute over ``path``."""
    kind = python_type(resolve_field(model, path))
    if function in ("sum", "avg") and kind not in _SUMMABLE:
        raise InvalidInput.at(("path", "function"), f"Cannot {function} {path}: it is not a number.",
                              "aggregate")
    if function in ("min", "max") and kind not in (*_COMPARABLE, str):
        raise InvalidInput.at(("path", "function"), f"Cannot take the {function} of {path}.", "aggregate")
