"""A django-filter ``FilterSet`` class in djfapi's place (``filterset_class = CompanyFilter``).

Its filters, declared ones (``hired_after = DateFilter(field_name="hired", lookup_expr="gt")``)
and its ``OrderingFilter`` included, become query parameters documented with the type of their
form field; FastAPI checks that type (a 422 naming the parameter), then the FilterSet validates
and applies the values as django-filter does.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
from typing import Annotated, Any, Literal

from django import forms
from django.db.models import QuerySet
from fastapi import Query, Request
from pydantic import BeforeValidator

from djfapi.exceptions import InvalidInput
from djfapi.filters import FilterParam, FilterSet
from djfapi.lookups import DATE, DECIMAL, MOMENT, split_commas, value_type

__all__ = ["DjangoFilterSet"]

# Most specific first: a forms.DecimalField is an IntegerField, a NullBooleanField a BooleanField.
_FORM_TYPES: list[tuple[type[forms.Field], Any]] = [
    (forms.DateTimeField, MOMENT), (forms.DateField, DATE), (forms.TimeField, datetime.time),
    (forms.DecimalField, DECIMAL), (forms.FloatField, float), (forms.IntegerField, int),
    (forms.BooleanField, bool), (forms.NullBooleanField, bool), (forms.UUIDField, str),
]


def _choices(form_field: forms.Field) -> Any:
    """A ``Literal`` of a choice field's values, ``str`` when they are not a fixed list."""
    values = [value for value, _ in getattr(form_field, "choices", ()) if value not in ("", None)]
    return Literal[tuple(values)] if values else str


def _form_type(form_field: forms.Field) -> Any:
    """The type a query value of ``form_field`` is read as (``str`` when there is no better)."""
    from django_filters.fields import BaseCSVField

    kind: Any = str
    if isinstance(form_field, forms.ModelChoiceField):
        queryset = form_field.queryset
        kind = value_type(queryset.model._meta.pk) if isinstance(queryset, QuerySet) else str
    elif isinstance(form_field, forms.ChoiceField):
        kind = _choices(form_field)
    else:
        kind = next((type_ for class_, type_ in _FORM_TYPES if isinstance(form_field, class_)), str)
    if isinstance(form_field, BaseCSVField):
        return Annotated[list[kind], BeforeValidator(split_commas)]
    if isinstance(form_field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return list[kind]
    return kind


def _form_value(value: Any) -> Any:
    """A parsed query value back as the text (or list) a django form reads."""
    if isinstance(value, list):
        return [_form_value(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value) if isinstance(value, decimal.Decimal | int | float) else value


class DjangoFilterSet(FilterSet):
    """The filters of a django-filter ``FilterSet`` class, which validates and applies them."""

    def __init__(self, filterset_class: Any) -> None:
        self.filterset_class = filterset_class
        self.params = []
        self.csv: set[str] = set()  # read as one comma-separated value
        self.ordering_names: set[str] = set()
        from django_filters import OrderingFilter
        from django_filters.fields import BaseCSVField

        for name, filter_ in filterset_class.base_filters.items():
            form_field = filter_.field
            suffixes = getattr(form_field.widget, "suffixes", None)
            if suffixes:  # a range: ``budget_min``, ``budget_max``
                parts = getattr(form_field, "fields", ())
                for index, suffix in enumerate(suffixes):
                    kind = _form_type(parts[index]) if index < len(parts) else str
                    self.params.append(FilterParam(f"{name}_{suffix}" if suffix else name, kind))
                continue
            self.params.append(FilterParam(name, _form_type(form_field)))
            if isinstance(form_field, BaseCSVField):
                self.csv.add(name)
            if isinstance(filter_, OrderingFilter):
                self.ordering_names.add(name)

    def parameters(self) -> list[inspect.Parameter]:
        return [
            inspect.Parameter(f"filter_{index}", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=Annotated[param.annotation | None, Query(alias=param.lookup)])
            for index, param in enumerate(self.params)
        ]

    def read(self, values: dict[str, Any], request: Request) -> dict[Any, Any]:
        given = {param.lookup: _form_value(values[f"filter_{index}"])
                 for index, param in enumerate(self.params) if values.get(f"filter_{index}") is not None}
        return {name: ",".join(value) if name in self.csv else value for name, value in given.items()}

    def orders(self, given: dict[Any, Any]) -> bool:
        return any(name in self.ordering_names for name in given)

    def filter_queryset(self, queryset: QuerySet[Any], given: dict[Any, Any]) -> QuerySet[Any]:
        filterset = self.filterset_class(data=given, queryset=queryset)
        if not filterset.is_valid():
            raise InvalidInput([{"loc": ["query", name], "msg": str(message), "type": "filter"}
                                for name, messages in filterset.errors.items() for message in messages])
        return filterset.qs  # type: ignore[no-any-return]
