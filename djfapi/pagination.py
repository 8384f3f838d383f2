"""How list responses are cut into pages.

A viewset names a class in ``pagination_class``; its :meth:`~BasePagination.dependency`
declares the query parameters and makes one paginator per request, with no database work::

    class CompanyViewSet(ModelViewSet):
        pagination_class = LimitOffsetPagination   # the default
        # pagination_class = None                  # answer {"items": [...]} unpaged
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from fastapi import HTTPException, Query
from pydantic import BaseModel, create_model

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["BasePagination", "CursorPagination", "LimitOffsetPagination", "NoPagination"]


class BasePagination:
    """One page of a list: the query parameters, the slicing, and the response's shape."""

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        """An async FastAPI dependency that reads the query parameters and returns a paginator."""
        async def pagination() -> BasePagination:
            return cls()

        return pagination

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        """The rows of this page, fetched."""
        return list(queryset)

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        """The response body for ``items``, validated against :meth:`response_schema`."""
        return {"items": items}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        """The pydantic model of the response body for items of ``item``."""
        return _items_schema(item)


class NoPagination(BasePagination):
    """Every row at once, as ``{"items": [...]}`` (what ``pagination_class = None`` means)."""


MAX_OFFSET = 2**62  # beyond what a database's 64-bit OFFSET takes; larger is a 422, not a 500


class LimitOffsetPagination(BasePagination):
    """``?limit=&offset=``, answered as ``{"items", "total", "limit", "offset"}``."""

    default_limit = 50
    max_limit = 1000

    def __init__(self, limit: int | None = None, offset: int = 0) -> None:
        self.limit = min(limit or self.default_limit, self.max_limit)
        self.offset = offset
        self.total = 0

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        async def pagination(
            limit: int = Query(
                cls.default_limit, ge=1,
                description=f"Page size; larger values are capped at {cls.max_limit}.",
            ),
            offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Number of rows to skip."),
        ) -> BasePagination:
            return cls(limit=limit, offset=offset)

        return pagination

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        self.total = queryset.count()
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        return {"items": items, "total": self.total, "limit": self.limit, "offset": self.offset}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _limit_offset_schema(item)


class CursorPagination(BasePagination):
    """Keyset pages for large tables: ``?cursor=&page_size=``, answered as
    ``{"items", "next", "previous"}`` with opaque, signed cursors, and no COUNT query.

    Pages follow the list's ordering (which always ends with the primary key); rows inserted
    while a client walks the pages never make it see a row twice. Order by non-null fields.
    """

    page_size = 50
    max_page_size = 1000
    salt = "djfapi.pagination.cursor"

    def __init__(self, position: dict[str, Any] | None = None, page_size: int | None = None) -> None:
        self.position = position  # {"v": values of the ordering fields, "r": walking backwards}
        self.size = min(page_size or self.page_size, self.max_page_size)
        self.next: str | None = None
        self.previous: str | None = None

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        async def pagination(
            cursor: str | None = Query(None, description="`next` or `previous` of another page."),
            page_size: int = Query(cls.page_size, ge=1, description=(
                f"Page size; larger values are capped at {cls.max_page_size}.")),
        ) -> BasePagination:
            return cls(cls.decode(cursor) if cursor else None, page_size)

        return pagination

    @classmethod
    def decode(cls, cursor: str) -> dict[str, Any]:
        """The position a cursor names; a 422 for one that was not made here or was altered."""
        try:
            position = signing.loads(cursor, salt=cls.salt)
        except signing.BadSignature:
            raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "type": "cursor",
                                              "msg": "The cursor is not valid."}]) from None
        return position  # type: ignore[no-any-return]

    def encode(self, row: Any, keys: list[tuple[str, bool]], backwards: bool) -> str:
        values = [_value(row, name) for name, _ in keys]
        plain = json.loads(json.dumps(values, cls=DjangoJSONEncoder))
        ordering = [[name, descending] for name, descending in keys]  # a cursor fits one ordering
        return signing.dumps({"v": plain, "r": backwards, "k": ordering}, salt=self.salt, compress=True)

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        keys = _ordering_keys(queryset)
        if self.position is not None and self.position.get("k") != [[name, desc] for name, desc in keys]:
            raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "type": "cursor", "msg": (
                "The cursor belongs to this list in another order: ask for the first page again, "
                "without a cursor.")}])
        backwards = bool(self.position and self.position["r"])
        if self.position is not None:
            queryset = queryset.filter(_beyond(keys, self.position["v"], backwards))
        if backwards:
            queryset = queryset.reverse()
        rows = list(queryset[: self.size + 1])
        more, rows = len(rows) > self.size, rows[: self.size]
        if backwards:
            rows.reverse()
        if rows and (more or backwards):
            self.next = self.encode(rows[-1], keys, backwards=False)
        if rows and ((more and backwards) or (self.position is not None and not backwards)):
            self.previous = self.encode(rows[0], keys, backwards=True)
        return rows

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        return {"items": items, "next": self.next, "previous": self.previous}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _cursor_schema(item)


def _ordering_keys(queryset: QuerySet[Any]) -> list[tuple[str, bool]]:
    """(field, descending) of the queryset's ordering, ending with the primary key."""
    names = list(queryset.query.order_by) or list(queryset.model._meta.ordering or [])
    if any(not isinstance(name, str) for name in names):
        raise ImproperlyConfigured("CursorPagination pages by field names; order by fields, not expressions.")
    if not names or names[-1].lstrip("-") not in ("pk", queryset.model._meta.pk.name):
        names.append("-pk" if names and names[-1].startswith("-") else "pk")
    return [(name.lstrip("-"), name.startswith("-")) for name in names]


def _beyond(keys: list[tuple[str, bool]], values: list[Any], backwards: bool) -> Q:
    """Rows after ``values`` in the ordering (before them, walking backwards)."""
    condition = Q()
    for index, (name, descending) in enumerate(keys):
        operator = "lt" if descending != backwards else "gt"
        step = Q(**{f"{name}__{operator}": values[index]})
        for earlier, value in zip(keys[:index], values, strict=False):
            step &= Q(**{earlier[0]: value})
        condition |= step
    return condition


def _value(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = row.pk if part == "pk" else getattr(row, part)
    return row


@functools.cache
def _cursor_schema(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{item.__name__}CursorPage",
        items=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, None),
        previous=(str | None, None),
    )


@functools.cache
def _items_schema(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(f"{item.__name__}List", items=(list[item], ...))  # type: ignore[valid-type]


@functools.cache
def _limit_offset_schema(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{item.__name__}Page",
        items=(list[item], ...),  # type: ignore[valid-type]
        total=(int, ...),
        limit=(int, ...),
        offset=(int, ...),
    )
