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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator

from djfapi.exceptions import ImproperlyConfigured, InvalidInput
from djfapi.lookups import COMPARABLE, condition, lookups_for, split_commas
from djfapi.meta import python_type, walk

__all__ = ["FilterParam", "FilterSet", "ListQuery", "Ordering", "Search", "check_aggregate",
           "resolve_field"]


def resolve_field(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    """The field ``path`` (``name``, ``company``, ``departments__name``) ends at: a ForeignKey's
    target column, a reverse relation as itself; ImproperlyConfigured when a part names none."""
    found = walk(model, path)[-1]
    if isinstance(found, models.ForeignKey):
        return found.target_field
    return found  # type: ignore[return-value]  # a reverse relation stands for its rows


NEGATION = "__not"  # ``name__not``, ``name__icontains__not``; 0.0.x's ``!name`` still works


@dataclass(frozen=True)
class FilterParam:
    """One filter query parameter: ``name__icontains``, or negated ``name__icontains__not``
    (``form="!"``: the 0.0.x spelling ``!name__icontains``, kept for old clients)."""

    lookup: str
    annotation: Any
    negated: bool = False
    spans_many: bool = False  # crosses a to-many relation, so matches may repeat rows
    form: str = NEGATION
    documented: bool = True
    file: bool = False  # a file field: no file ("", read as null) is null to ``__isnull``

    @property
    def alias(self) -> str:
        if not self.negated:
            return self.lookup
        return f"!{self.lookup}" if self.form == "!" else f"{self.lookup}{NEGATION}"

    @property
    def identifier(self) -> str:
        if not self.negated:
            return self.lookup
        return f"{'bang' if self.form == '!' else 'not'}__{self.lookup}"

    def description(self) -> str:
        text = f"Rows where {self.lookup.replace('__', ' ')}{' does not match' if self.negated else ''}."
        if self.negated:
            text += f" Every other lookup negates the same way, as `{self.lookup}__in{NEGATION}`."
        return text


class FilterSet:
    """The filters of ``fields`` (``"__all__"``: the model's own non-relation fields)."""

    def __init__(self, model: type[models.Model], fields: Sequence[str] | str) -> None:
        if fields == "__all__":
            fields = [f.name for f in model._meta.concrete_fields if not f.is_relation]
        self.params: list[FilterParam] = []
        for path in fields:
            many = _spans_many(model, path)
            last = walk(model, path)[-1]
            relation = last if isinstance(last, models.Field) and last.is_relation else None
            field = resolve_field(model, path)
            for lookup, annotation in lookups_for(path, field, relation=relation):
                self.params.append(FilterParam(lookup, annotation, spans_many=many,
                                               file=isinstance(field, models.FileField)))
                if lookup.endswith("__isnull"):
                    continue
                # /docs shows one negation a field; every other is accepted all the same
                self.params += [FilterParam(lookup, annotation, True, many, documented=lookup == path),
                                FilterParam(lookup, annotation, True, many, form="!", documented=False)]

    def parameters(self) -> list[inspect.Parameter]:
        """The query parameters, for an endpoint signature."""
        return [
            inspect.Parameter(
                param.identifier, inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[param.annotation | None, Query(
                    alias=param.alias, description=param.description(),
                    include_in_schema=param.documented)])
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
            matches = condition(param.lookup, value, file=param.file)
            queryset = queryset.exclude(matches) if param.negated else queryset.filter(matches)
        return queryset.distinct() if any(param.spans_many for param in given) else queryset

    def orders(self, given: dict[Any, Any]) -> bool:
        """Whether the filters given order the rows themselves (a django-filter OrderingFilter)."""
        return False

    def asks_for(self, given: dict[Any, Any], field_name: str) -> bool:
        """Whether the request filters on ``field_name`` itself."""
        return any(getattr(p, "lookup", str(p)).split("__")[0] == field_name for p in given)


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
            if walk(model, path)[-1].is_relation:  # Django has no icontains on a relation
                raise ImproperlyConfigured(
                    f"search_fields of {model.__name__}: {path!r} is a relation, which text cannot "
                    f"match; search a field of it instead, e.g. {path.removesuffix('_id')}__name.")
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


ORDERING_ALIAS = "drf_ordering"  # ``?ordering=``, DRF's name for ``?order_by=``


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
                description="Sort by these fields, in turn; `-name` sorts descending "
                            "(DRF's `ordering` is read as `order_by`).")],
        ), inspect.Parameter(
            ORDERING_ALIAS, inspect.Parameter.KEYWORD_ONLY, default=None,
            # as in DRF, comma-separated: ``?ordering=-budget,code``
            annotation=Annotated[list[self.choice] | None, BeforeValidator(split_commas),  # type: ignore[name-defined]
                                 Query(alias="ordering", include_in_schema=False)],
        )]

    def order(self, queryset: QuerySet[Any], requested: Sequence[Any] | None, keep: bool = False
              ) -> QuerySet[Any]:
        """``queryset`` in the ``requested`` order, else (``keep``) its own, else the default."""
        names = [str(getattr(item, "value", item)) for item in requested] if requested else self.default
        if keep and not requested:
            names = [str(name) for name in queryset.query.order_by]
        names = [name for name in names if name.lstrip("-") != "pk"]
        descending = bool(names) and names[-1].startswith("-")
        return queryset.order_by(*names, "-pk" if descending else "pk")


@dataclass
class ListQuery:
    """What a list (or aggregate) request asked for: filters, search text, ordering."""

    filters: dict[Any, Any] = field(default_factory=dict)
    search: str | None = None
    order_by: list[Any] | None = None
    keep_order: bool = False  # the filters ordered the rows (a django-filter OrderingFilter)


def query_dependency(filterset: FilterSet, search: Search | None, ordering: Ordering | None
                     ) -> Callable[..., Awaitable[ListQuery]]:
    """An async dependency whose signature declares every query parameter; no database work."""
    async def list_query(request: Request, **values: Any) -> ListQuery:
        order_by = values.get("order_by")
        if order_by and values.get(ORDERING_ALIAS):
            raise RequestValidationError([{"loc": ("query", "ordering"), "type": "ordering",
                                           "msg": "Give order_by or ordering, not both."}])
        filters = filterset.read(values, request)
        return ListQuery(filters, values.get("search"), order_by or values.get(ORDERING_ALIAS),
                         filterset.orders(filters))

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
                  *filterset.parameters()]
    if search is not None:
        parameters.append(inspect.Parameter(
            "search", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, Query(
                description=f"Words that must each appear in one of: {', '.join(search.fields)}.")],
        ))
    if ordering is not None:
        taken = {param.alias for param in filterset.params} | {*filterset.query_names()}
        # a filterset's own ``ordering`` parameter (a django-filter OrderingFilter) wins over the alias
        parameters += [param for param in ordering.parameters()
                       if param.name != ORDERING_ALIAS or "ordering" not in taken]
    list_query.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return list_query


_SUMMABLE = (int, float, decimal.Decimal, datetime.timedelta)


def check_aggregate(model: type[models.Model], function: str, path: str) -> None:
    """Raise InvalidInput (422) for an aggregate the database cannot compute over ``path``."""
    kind = python_type(resolve_field(model, path))
    if function in ("sum", "avg") and kind not in _SUMMABLE:
        raise InvalidInput.at(("path", "function"), f"Cannot {function} {path}: it is not a number.",
                              "aggregate")
    if function in ("min", "max") and kind not in (*COMPARABLE, str):
        raise InvalidInput.at(("path", "function"), f"Cannot take the {function} of {path}.", "aggregate")
