"""How list responses are cut into pages.

A viewset names a class in ``pagination_class`` (else the project's
``DJFAPI["DEFAULT_PAGINATION_CLASS"]``, else :class:`LimitOffsetPagination`); its
:meth:`~BasePagination.dependency` declares the query parameters and makes one paginator per
request, with no database work::

    class CompanyViewSet(ModelViewSet):
        pagination_class = PageNumberPagination    # {"count", "next", "previous", "results"}
        # pagination_class = None                  # answer {"items": [...]} unpaged

A pagination class of your own implements four methods, the same ones every class here does:
``dependency()`` (its query parameters; the request is ``self.request``),
``paginate_queryset(queryset)`` (the page's rows, read with ``self.fetch``),
``get_paginated_response(items)`` (the body) and ``response_schema(item)`` (the body's pydantic
model). A class that overrides ``get_paginated_response`` must override ``response_schema``
too: the body is validated against it, and keys it does not declare would be dropped, so
``router.register`` refuses such a class (:func:`check_pagination`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, Field, create_model
from starlette.datastructures import URL

from djfapi.conf import api_setting
from djfapi.exceptions import ImproperlyConfigured
from djfapi.hosts import checked_url
from djfapi.keyset import Key, Position, beyond, dump_value, load_value, ordering_keys, orderings

RowReader = Callable[[QuerySet[Any], Sequence[str]], list[Any]]

__all__ = ["MAX_OFFSET", "BasePagination", "CursorPagination", "LimitOffsetPagination", "NoPagination",
           "PageNumberPagination", "check_pagination"]

FALLBACK_PAGE_SIZE = 50  # when neither the class nor DJFAPI["PAGE_SIZE"] sets one


class BasePagination:
    """One page of a list: the query parameters, the slicing, and the response's shape.

    Implement :meth:`dependency`, :meth:`paginate_queryset`, :meth:`get_paginated_response`
    and :meth:`response_schema`; the last two go together (see :func:`check_pagination`)."""

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        """An async FastAPI dependency that reads the query parameters and returns a paginator
        (with ``request`` set, for links)."""
        async def pagination(request: Request) -> BasePagination:
            return cls().bound(request)

        return pagination

    read_rows: RowReader | None = None  # set per request by a viewset that reads values
    request: Request | None = None  # set by dependency(): links are built from its URL

    def bound(self, request: Request) -> BasePagination:
        """This paginator, answering ``request``."""
        self.request = request
        return self

    def link(self, drop: Sequence[str], **params: Any) -> str | None:
        """The absolute URL of this request with ``params`` set and ``drop`` left out (every
        other query parameter kept: filters, ordering); None without a request."""
        if self.request is None:
            return None
        url: URL = checked_url(self.request).remove_query_params([*drop, *params])
        return str(url.include_query_params(**params) if params else url)

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
        return _page_model(item, "items")


class NoPagination(BasePagination):
    """Every row at once, as ``{"items": [...]}`` (what ``pagination_class = None`` means)."""


MAX_OFFSET = 2**62  # beyond what a database's 64-bit OFFSET takes; larger is a 422, not a 500


class LimitOffsetPagination(BasePagination):
    """``?limit=&offset=``, answered as ``{"items", "total", "limit", "offset", "next", "previous"}``.

    ``next`` and ``previous`` are absolute links to the pages beside this one (null at either
    end), keeping the request's other query parameters. ``total`` costs a second query a page,
    ``SELECT COUNT(*)`` over every row the filters leave (on PostgreSQL a scan of them all). A
    subclass with ``count = False`` runs none: it reads one row more than the page and answers
    ``{"items", "limit", "offset", "more", "next", "previous"}``,
    where ``more`` says whether rows follow this page::

        class UncountedPagination(LimitOffsetPagination):
            count = False
    """

    default_limit: int | None = None  # None: DJFAPI["PAGE_SIZE"], else 50
    max_limit = 1000
    count = True  # answer ``total`` (one COUNT query a page); False: answer ``more`` instead

    def __init__(self, limit: int | None = None, offset: int = 0) -> None:
        self.limit = min(limit or page_size_of(self.default_limit), self.max_limit)
        self.offset = offset
        self.total = 0
        self.more = False

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        async def pagination(
            request: Request,
            limit: int = Query(
                page_size_of(cls.default_limit), ge=1,
                description=f"Page size; larger values are capped at {cls.max_limit}.",
            ),
            offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Number of rows to skip."),
        ) -> BasePagination:
            return cls(limit=limit, offset=offset).bound(request)

        return pagination

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        if self.count:
            self.total = queryset.count()
            return self.fetch(queryset[self.offset : self.offset + self.limit])
        rows = self.fetch(queryset[self.offset : self.offset + self.limit + 1])
        self.more = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        links = {"next": self.next_link(), "previous": self.previous_link()}
        if self.count:
            return {"items": items, "total": self.total, "limit": self.limit, "offset": self.offset, **links}
        return {"items": items, "limit": self.limit, "offset": self.offset, "more": self.more, **links}

    def next_link(self) -> str | None:
        """The page after this one; None when no rows follow it."""
        end = self.offset + self.limit
        if not (end < self.total if self.count else self.more):
            return None
        return self.link((), limit=self.limit, offset=end)

    def previous_link(self) -> str | None:
        """The page before this one (without ``offset`` when it is the first); None on the first."""
        if self.offset <= 0:
            return None
        start = max(self.offset - self.limit, 0)
        if start == 0:
            return self.link(("offset",), limit=self.limit)
        return self.link((), limit=self.limit, offset=start)

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _page_model(item, "limit_offset" if cls.count else "uncounted")


class PageNumberPagination(BasePagination):
    """``?page=`` (from 1) and ``?page_size=``, answered as DRF answers them:
    ``{"count", "next", "previous", "results"}``, with absolute links to the pages beside this
    one (null at either end) that keep the request's other query parameters.

    ``count`` costs one ``SELECT COUNT(*)`` a page. A page past the last is a 404
    (``"Invalid page."``); the first page of an empty list is not. ``page_size_query_param =
    None`` takes the page size from the class alone; larger sizes are capped at
    ``max_page_size``.
    """

    page_size: int | None = None  # None: DJFAPI["PAGE_SIZE"], else 50
    max_page_size = 1000
    page_query_param = "page"
    page_size_query_param: str | None = "page_size"
    invalid_page_message = "Invalid page."

    def __init__(self, page: int = 1, page_size: int | None = None) -> None:
        self.page = page
        self.size = min(page_size or page_size_of(self.page_size), self.max_page_size)
        self.count = 0

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        size = page_size_of(cls.page_size)
        page = Query(1, ge=1, alias=cls.page_query_param, description="Page number, from 1.")
        if cls.page_size_query_param is None:
            async def pagination(request: Request, number: int = page) -> BasePagination:
                return cls(number).bound(request)

            return pagination

        described = f"Page size; larger values are capped at {cls.max_page_size}."
        sizes = Query(size, ge=1, alias=cls.page_size_query_param, description=described)

        async def sized(request: Request, number: int = page, page_size: int = sizes) -> BasePagination:
            return cls(number, page_size).bound(request)

        return sized

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        self.count = queryset.count()
        start = (self.page - 1) * self.size
        if start >= self.count and self.page > 1:  # the first page of no rows is a page
            raise HTTPException(404, detail=self.invalid_page_message)
        return self.fetch(queryset[start : start + self.size])

    def get_paginated_response(self, items: Sequence[Any]) -> dict[str, Any]:
        last = self.page * self.size >= self.count
        following = None if last else self.link((), **{self.page_query_param: self.page + 1})
        before = None
        if self.page == 2:
            before = self.link((self.page_query_param,))
        elif self.page > 2:
            before = self.link((), **{self.page_query_param: self.page - 1})
        return {"count": self.count, "next": following, "previous": before, "results": items}

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return _page_model(item, "page_number")


class CursorPagination(BasePagination):
    """Keyset pages for large tables: ``?cursor=&page_size=``, answered as
    ``{"items", "next", "previous"}`` with opaque, signed cursors, and no COUNT query.

    Pages follow the list's ordering, which always ends with the primary key. A cursor holds
    the ordering's values where its page ended, typed, so they come back exactly. A client
    walking forwards through ``next``, or back through ``previous`` to the first page, sees
    every row that exists for the whole walk exactly once, while rows come and go.
    NULL sorts as if larger than any value, on every database (SQLite is told NULLS
    LAST/FIRST); a field ending at a relation pages by its column (``company_id``). A cursor
    is a 422 when altered, or made for another list (path, filters, search) or ordering.
    """

    page_size: int | None = None  # None: DJFAPI["PAGE_SIZE"], else 50
    max_page_size = 1000
    salt = "djfapi.pagination.cursor.v2"  # v1 cursors held lossy values: they are refused

    def __init__(self, position: Position | None = None, page_size: int | None = None) -> None:
        self.position = position
        self.size = min(page_size or page_size_of(self.page_size), self.max_page_size)
        self.next: str | None = None
        self.previous: str | None = None

    @classmethod
    def dependency(cls) -> Callable[..., Awaitable[BasePagination]]:
        async def pagination(
            request: Request,
            cursor: str | None = Query(None, description="`next` or `previous` of another page."),
            page_size: int = Query(page_size_of(cls.page_size), ge=1, description=(
                f"Page size; larger values are capped at {cls.max_page_size}.")),
        ) -> BasePagination:
            return cls(cls.decode(cursor) if cursor else None, page_size).bound(request)

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
        ordering = [queryset.model._meta.label, *([key.path, key.descending] for key in keys), self.list_of()]
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

    def list_of(self) -> str:
        """A digest of the request's path and query but the cursor and page size; "" without."""
        if self.request is None:
            return ""
        params = sorted((name, value) for name, value in self.request.query_params.multi_items()
                        if name not in ("cursor", "page_size"))
        listed = json.dumps([self.request.url.path, params]).encode()
        return hashlib.sha256(listed).hexdigest()[:16]

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
        return _page_model(item, "cursor")


def page_size_of(size: int | None) -> int:
    """``size``, else the project's ``DJFAPI["PAGE_SIZE"]``, else 50."""
    if size:
        return size
    configured = api_setting("PAGE_SIZE")
    if configured is not None and (type(configured) is not int or configured < 1):
        raise ImproperlyConfigured(f'settings.DJFAPI["PAGE_SIZE"] = {configured!r}: use a positive int, '
                                   "or leave it out for 50.")
    return configured or FALLBACK_PAGE_SIZE


def check_pagination(pagination: type[BasePagination], owner: str) -> type[BasePagination]:
    """``pagination``, unless it changes the page's body without declaring it: then an
    ImproperlyConfigured naming ``owner`` (the viewset), the class and the fix."""
    if not (isinstance(pagination, type) and issubclass(pagination, BasePagination)):
        raise ImproperlyConfigured(f"{owner}'s pagination class must be a BasePagination subclass, "
                                   f"not {pagination!r}.")
    body, schema = (_defined_by(pagination, name) for name in ("get_paginated_response", "response_schema"))
    if body is not schema and issubclass(body, schema):
        raise ImproperlyConfigured(
            f"{pagination.__name__} (the pagination of {owner}) overrides get_paginated_response() "
            f"but not response_schema(), which {schema.__name__} declares: keys it does not "
            f"declare would be dropped from every page. Override `@classmethod def "
            f"response_schema(cls, item)` to return the page's pydantic model.")
    return pagination


def _defined_by(cls: type, name: str) -> type:
    return next(klass for klass in cls.__mro__ if name in vars(klass))


_NEXT = (str | None, Field(description="Absolute URL of the next page; null on the last."))
_PREVIOUS = (str | None, Field(description="Absolute URL of the previous page; null on the first."))
_SHAPES: dict[str, tuple[str, dict[str, Any]]] = {  # a page's keys besides its rows, by shape
    "items": ("List", {}),
    "limit_offset": ("Page", {"total": (int, ...), "limit": (int, ...), "offset": (int, ...),
                              "next": _NEXT, "previous": _PREVIOUS}),
    "uncounted": ("UncountedPage", {"limit": (int, ...), "offset": (int, ...), "more": (
        bool, Field(description="Whether rows follow this page.")), "next": _NEXT, "previous": _PREVIOUS}),
    "cursor": ("CursorPage", {"next": (str | None, None), "previous": (str | None, None)}),
    "page_number": ("NumberedPage", {"count": (int, Field(description="Rows in the whole list.")),
                                     "next": _NEXT, "previous": _PREVIOUS}),
}


@functools.cache
def _page_model(item: type[BaseModel], shape: str) -> type[BaseModel]:
    suffix, fields = _SHAPES[shape]
    name = f"{item.__name__}{suffix}"
    if shape == "page_number":  # DRF's key order: count, next, previous, results
        return create_model(name, **fields, results=(list[item], ...))  # type: ignore[valid-type]
    return create_model(name, items=(list[item], ...), **fields)  # type: ignore[valid-type]
