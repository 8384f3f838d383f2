"""One mixin per action; each action only calls hooks, and each default hook is a line or two."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, DecimalField, Max, Min, Sum
from pydantic import BaseModel

from djfapi.filters import check_aggregate, resolve_field
from djfapi.schemas.saving import lock, remember_loaded, save_changes

if TYPE_CHECKING:  # mixins are combined with GenericViewSet, which holds the hooks they call
    from djfapi.viewsets.generic import GenericViewSet as _Base
else:
    _Base = object

__all__ = [
    "AggregateModelMixin",
    "CreateModelMixin",
    "DestroyModelMixin",
    "ListModelMixin",
    "RetrieveModelMixin",
    "UpdateModelMixin",
]


class ListModelMixin(_Base):
    """``GET /<prefix>``: a page of the rows ``get_queryset()`` and ``filter_queryset()`` allow."""

    def list(self) -> dict[str, Any]:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(page)


class RetrieveModelMixin(_Base):
    """``GET /<prefix>/{id}``: one row."""

    def retrieve(self) -> Any:
        return self.read_object()


class CreateModelMixin(_Base):
    """``POST /<prefix>``: a new row from the ``create`` schema, answered with 201."""

    def create(self, data: BaseModel) -> Any:
        with self.atomic():
            instance = self.build_instance(data)
            self.perform_create(instance)
            self.get_writer().write_nested(instance, data)
            self.reread(instance)
        return instance

    def build_instance(self, data: BaseModel) -> Any:
        """An unsaved instance with the body's fields, the parent and the tenant set."""
        instance = self.get_model()()
        self.get_writer().assign(data, instance, exclude=self.get_server_owned_fields())
        self.set_server_owned_fields(instance)
        return instance

    def perform_create(self, instance: Any) -> None:
        self.validate_instance(instance)
        instance.save(force_insert=True)  # never an UPDATE of a row whose key the body named


class UpdateModelMixin(_Base):
    """``PUT`` (every field of ``update``) and ``PATCH`` (only the fields sent) on one row."""

    def update(self, data: BaseModel, *, partial: bool = False) -> Any:
        writer = self.get_writer()
        with self.atomic():
            instance = self.get_object_for_write()
            remember_loaded(instance)
            kept = {*self.get_server_owned_fields(), *self.get_withheld_fields(data)}
            writer.assign(data, instance, partial=partial, exclude=kept)
            self.perform_update(instance)
            writer.write_nested(instance, data, partial=partial)
            self.reread(instance)  # the response is what a retrieve answers now
        return instance

    def partial_update(self, data: BaseModel) -> Any:
        return self.update(data, partial=True)

    def perform_update(self, instance: Any) -> None:
        self.validate_instance(instance)
        save_changes(instance)  # only the columns that changed; a row deleted meanwhile: 404


class DestroyModelMixin(_Base):
    """``DELETE /<prefix>/{id}``, answered with 204."""

    def destroy(self) -> None:
        with self.atomic():
            self.perform_destroy(self.get_object_for_write())

    def perform_destroy(self, instance: Any) -> None:
        if self.delete_status is None:
            # The row first, then what cascades: a write holding it (a nested list's sync)
            # finishes before its children are collected, instead of deadlocking with it.
            lock(instance)
            instance.delete()
            return
        remember_loaded(instance)
        setattr(instance, self.status_field, self.delete_status)  # soft delete
        save_changes(instance)


AGGREGATES = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}


class AggregateModelMixin(_Base):
    """``GET /<prefix>/aggregate/{function}/{field}?group_by=``: count, sum, avg, min or max over
    ``aggregate_fields``, grouped by ``aggregate_group_by``, after filters and tenancy."""

    def aggregate(self, function: str, field: str, group_by: list[str] | None = None) -> dict[str, Any]:
        check_aggregate(self.get_model(), function, field)
        queryset = self.filter_queryset(self.get_queryset()).order_by()
        expression = AGGREGATES[function](field)
        if not group_by:
            rows = [queryset.aggregate(value=expression)]
        else:
            rows = list(queryset.values(*group_by).annotate(value=expression).order_by(*group_by))
        column = resolve_field(self.get_model(), field)
        scaled = function in ("sum", "min", "max")  # a count is a count of rows, an avg has its own places
        if scaled and isinstance(column, DecimalField) and column.decimal_places is not None:
            # as the column stores them on every database (SQLite sums decimals as floats)
            places = Decimal(1).scaleb(-column.decimal_places)
            for row in rows:
                if row["value"] is not None:
                    row["value"] = Decimal(row["value"]).quantize(places)
        return {"values": rows}
