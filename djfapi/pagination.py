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

from django.db.models import QuerySet
from fastapi import Query
from pydantic import BaseModel, create_model

__all__ = ["BasePagination", "LimitOffsetPagination", "NoPagination"]


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
            offset: int = Query(0, ge=0, description="Number of rows to skip."),
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
