"""How list responses are cut into pages.

A viewset names a class in ``pagination_class``; its :meth:`~BasePagination.dependency`
declares the query parameters and makes one paginator per request, with no database work::

    class CompanyViewSet(ModelViewSet):
        pagination_class = LimitOffsetPagination   # the default
        # pagination_class = None                  # answer {"items": [...]} unpaged
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from fastapi import HTTPException, Query
from pydantic import BaseModel, Field, create_model

from djfapi.keyset import Key, Position, beyond, dump_value, load_value, ordering_keys, orderings

RowReader = Callable[[QuerySet[Any], Sequence[str]], list[Any]]

__all__ = ["MAX_OFFSET", "BasePagination", "CursorPagination", "LimitOffsetPagination", "NoPagination"]


class BasePagination:
    """One page of a list: the query parameters, the slicing, and the response's shape."""

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        """An async FastAPI dependency that reads the query parameters and returns a paginator."""
        async def pagination() -> BasePagination:
            return cls()

        return pagination

    read_rows: RowReader | None = None  # set per request by a viewset that reads values

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        """The rows of this page, fetched."""
        return self.fetch(queryset)

    def fetch(self, queryset: QuerySet[Any], also: Sequence[str] = ()) -> list[Any]:
        """The rows of ``queryset`` (the page, sliced): model instances, or the dicts
        ``read_rows`` reads (a viewset's values plan), with ``also`` (fields the paginator reads
        of each row) among their keys. Counting and filtering use the queryset as it is."""
        return list(queryset) if self.read_rows is None else self.read_rows(queryset, also)

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
    """``?limit=&offset=``, answered as ``{"items", "total", "limit", "offset"}``.

    ``total`` costs a second query a page, ``SELECT COUNT(*)`` over every row the filters
    leave (on PostgreSQL a scan of them all). A subclass with ``count = False`` runs none: it
    reads one row more than the page and answers ``{"items", "limit", "offset", "more"}``,
    where ``more`` says whether rows follow this page::

        class UncountedPagination(LimitOffsetPagination):
            count = False
    """

    default_limit = 50
    max_limit = 1000
    count = True  # answer ``total`` (one COUNT query a page); False: answer ``more`` instead

    def __init__(self, limit: int | None = None, offset: int = 0) -> None:
        self.limit = min(limit or self.default_limit, self.max_limit)
        self.offset = offset
        self.total = 0
        self.more = False

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
        if self.count:
            self.total = queryset.count()
            return self.fetch(queryset[self.offset : self.offset + self.limit])
        rows = self.fetch(queryset[self.offset : self.offset + self.limit + 1])
        self.more = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        if self.count:
            return {"items": items, "total": self.total, "limit": self.limit, "offset": self.offset}
        return {"items": items, "limit": self.limit, "offset": self.offset, "more": self.more}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _limit_offset_schema(item) if cls.count else _uncounted_schema(item)


class CursorPagination(BasePagination):
    """Keyset pages for large tables: ``?cursor=&page_size=``, answered as
    ``{"items", "next", "previous"}`` with opaque, signed cursors, and no COUNT query.

    Pages follow the list's ordering, which always ends with the primary key. A cursor holds
    the values of the ordering's fields where its page ended, typed, so they come back exactly
    (a datetime's microseconds and offset, a Decimal's digits, a 64-bit int, a UUID, NULL).
    A client walking forwards through ``next``, or back through ``previous`` to the first page
    (whose ``previous`` is null), sees every row that exists for the whole walk exactly once,
    while other rows are inserted and deleted; ``previous`` of a page is exactly the page before.

    NULL sorts as if it were larger than any value, on every database: last when a field is
    ascending, first when it is descending (PostgreSQL's default; SQLite is told NULLS
    LAST/FIRST). A field that ends at a relation pages by its column (``company`` by
    ``company_id``). A cursor is refused with a 422 when it was altered, or made for another
    list or another ordering.
    """

    page_size = 50
    max_page_size = 1000
    salt = "djfapi.pagination.cursor.v2"  # v1 cursors held lossy values: they are refused

    def __init__(self, position: Position | None = None, page_size: int | None = None) -> None:
        self.position = position
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
    def decode(cls, cursor: str) -> Position:
        """The position a cursor names; a 422 for one that was not made here or was altered."""
        try:
            data = signing.loads(cursor, salt=cls.salt)
            return Position([load_value(value) for value in data["v"]], bool(data["r"]),
                            bool(data["i"]), data["k"])
        except (signing.BadSignature, KeyError, TypeError, ValueError, ArithmeticError):
            raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "type": "cursor",
                                              "msg": "The cursor is not valid."}]) from None

    def encode(self, position: Position) -> str:
        """The cursor of ``position``, signed."""
        data = {"v": [dump_value(value) for value in position.values], "r": position.backwards,
                "i": position.inclusive, "k": position.ordering}
        return signing.dumps(data, salt=self.salt, compress=True)

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        keys = ordering_keys(queryset)
        ordering = [queryset.model._meta.label, *([key.path, key.descending] for key in keys)]
        if self.position is not None and self.position.ordering != ordering:
            raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "type": "cursor", "msg": (
                "The cursor belongs to another list, or to this list in another order: ask for "
                "the first page again, without a cursor.")}])
        backwards = self.position is not None and self.position.backwards
        if self.position is not None:
            queryset = queryset.filter(
                beyond(keys, self.position.values, backwards, self.position.inclusive))
        queryset = queryset.order_by(*orderings(keys, backwards))
        if not queryset.query.standard_ordering:  # the keys already read the ordering reversed
            queryset = queryset.reverse()
        rows = self.fetch(queryset[: self.size + 1], [key.path for key in keys])
        more, rows = len(rows) > self.size, rows[: self.size]
        if backwards:
            rows.reverse()
        self.next, self.previous = self.links(rows, more, keys, ordering)
        return rows

    def links(self, rows: list[Any], more: bool, keys: list[Key], ordering: list[Any]
              ) -> tuple[str | None, str | None]:
        """``next`` and ``previous`` of a page of ``rows``; ``more`` rows lie beyond it in the
        direction it was read."""
        def at(row: Any, backwards: bool) -> str:
            return self.encode(Position([key.value_of(row) for key in keys], backwards, False, ordering))

        here = self.position
        if here is None:
            return (at(rows[-1], False) if more else None), None
        if not rows:  # deleted meanwhile: turn round at the cursor's own position, inclusive,
            # so the row it was made at is on the way back if it still exists
            turned = self.encode(Position(here.values, not here.backwards, True, ordering))
            return (turned, None) if here.backwards else (None, turned)
        if here.backwards:
            return at(rows[-1], False), (at(rows[0], True) if more else None)
        return (at(rows[-1], False) if more else None), at(rows[0], True)

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        return {"items": items, "next": self.next, "previous": self.previous}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _cursor_schema(item)


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


@functools.cache
def _uncounted_schema(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{item.__name__}UncountedPage",
        items=(list[item], ...),  # type: ignore[valid-type]
        limit=(int, ...),
        offset=(int, ...),
        more=(bool, Field(description="Whether rows follow this page.")),
    )
