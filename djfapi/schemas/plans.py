"""Values plans: a response schema compiled once per model into the columns and queries that
read a list's rows as plain dicts, without model instances.

The rows themselves are read with ``values()`` of only the columns the schema names (a
forward ForeignKey's nested object through a join, ``values("company__name")``); each nested
list (a reverse ForeignKey or a many-to-many) costs one ``IN`` query per level, read through
the queryset a ``Prefetch`` on the list's queryset names for it (a registered child viewset's)
or the related model's default manager, as ``prefetch_related`` would. The dicts are assembled
in Python, so a page costs the same queries at any length and no instance is ever made::

    plan = values_plan(Company, CompanyOut)
    if plan.reason is None:                        # else: why it needs instances
        page = plan.rows(list(plan.values(queryset)[:50]), queryset)

A schema that reads a model property or method, a ``Field(orm_method=)``, a reverse one-to-one,
a generic relation or a ForeignKey to a column other than the primary key cannot be read this
way: :attr:`ValuesPlan.reason` says why, and the caller reads instances instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import ForeignObjectRel, Prefetch, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from djfapi.schemas.fields import field_options, orm_name
from djfapi.schemas.reading import Rows, input_key
from djfapi.schemas.types import collection_item, nested_model

__all__ = ["ValuesPlan", "values_plan"]


class NeedsInstances(Exception):
    """Why a schema cannot be read from ``values()``."""


@dataclass(frozen=True)
class Level:
    """A nested list: the rows of ``model`` whose ``link`` is one of the parent rows' keys,
    read as ``node`` (None: as their primary keys)."""

    key: str
    path: str  # from the list's model, as prefetch_related names it (``departments__teams``)
    model: type[models.Model]
    link: str  # the lookup from ``model`` back to the parent (``company``, ``tags``)
    node: Node | None


@dataclass(frozen=True)
class Joined:
    """A forward ForeignKey read as a nested object, through a join."""

    key: str
    name: str  # the ForeignKey; its column says whether there is a row
    node: Node


@dataclass(frozen=True)
class Node:
    """A schema read from the columns of one model: (key, column) pairs, joined objects,
    nested lists, and names no model field has (read from the queryset's annotations).
    ``pk``: the column the primary key is read from; ``as_read``: a row of ``values()`` is
    already the row (keys are columns, nothing is nested, and the schema ignores extra keys)."""

    model: type[models.Model]
    columns: tuple[tuple[str, str], ...]
    joins: tuple[Joined, ...]
    levels: tuple[Level, ...]
    extras: tuple[tuple[str, str], ...]
    pk: str
    as_read: bool

    def paths(self, prefix: str = "") -> list[str]:
        """The ``values()`` paths this node and its joined objects read."""
        found = [prefix + self.pk, *(prefix + column for _, column in self.columns)]
        for joined in self.joins:
            found += [prefix + joined.name, *joined.node.paths(f"{prefix}{joined.name}__")]
        return found

    def all_levels(self, prefix: str = "") -> Iterable[tuple[str, Node, Level]]:
        """The nested lists of this node and its joined objects, with the prefix and the node
        of their parent."""
        for level in self.levels:
            yield prefix, self, level
        for joined in self.joins:
            yield from joined.node.all_levels(f"{prefix}{joined.name}__")


@dataclass(frozen=True)
class ValuesPlan:
    """How a schema's rows are read from ``values()``; ``reason``: why they cannot be (then
    ``node`` is None and instances are read instead)."""

    node: Node | None
    reason: str | None = None

    def usable(self, queryset: QuerySet[Any]) -> bool:
        """Whether ``queryset`` can be read by this plan: a plain model queryset whose prefetches
        carry no ``to_attr`` and whose nested querysets are not sliced."""
        return self.node is not None and _plain(queryset)

    def values(self, queryset: QuerySet[Any], also: Sequence[str] = ()) -> QuerySet[Any]:
        """``queryset`` as dicts of the columns the schema reads (and ``also``, for a paginator)."""
        assert self.node is not None
        paths = self.node.paths() + [name for _, name in _extras(self.node, queryset)] + list(also)
        if queryset.query.select_related:
            queryset = queryset.select_related(None)
        if _lookups(queryset):
            queryset = queryset.prefetch_related(None)
        return queryset.values(*dict.fromkeys(paths))

    def read(self, queryset: QuerySet[Any], also: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The rows of ``queryset`` as :meth:`values` reads them."""
        return list(self.values(queryset, also))

    def rows(self, raw: Sequence[dict[str, Any]], queryset: QuerySet[Any]) -> Rows:
        """The rows of the schema from ``raw`` (what :meth:`values` read), nested lists read by
        one query per level through the querysets ``queryset``'s prefetches name."""
        assert self.node is not None
        return _assemble(self.node, raw, _prefetch_querysets(queryset), "", queryset)


def _plain(queryset: QuerySet[Any]) -> bool:
    """Whether ``queryset`` reads model rows as they are, and so do its prefetches' querysets:
    not combined, not with ``extra()``, not sliced, and prefetching to no ``to_attr``."""
    query = queryset.query
    if queryset._iterable_class is not ModelIterable or query.combinator or query.extra or query.is_sliced:
        return False
    return all(not isinstance(lookup, Prefetch) or (not lookup.to_attr and (
        lookup.queryset is None or _plain(lookup.queryset))) for lookup in _lookups(queryset))


def _lookups(queryset: QuerySet[Any]) -> tuple[Any, ...]:
    return queryset._prefetch_related_lookups  # type: ignore[attr-defined,no-any-return]


def _extras(node: Node, queryset: QuerySet[Any]) -> list[tuple[str, str]]:
    """The (key, name) of ``node``'s extras that ``queryset`` annotates (others are left out,
    as reading an instance leaves out what it has not)."""
    return [(key, name) for key, name in node.extras if name in queryset.query.annotation_select]


def _prefetch_querysets(queryset: QuerySet[Any]) -> dict[str, QuerySet[Any]]:
    return {lookup.prefetch_to: lookup.queryset for lookup in _lookups(queryset)
            if isinstance(lookup, Prefetch) and lookup.queryset is not None}


def _assemble(node: Node, raw: Sequence[dict[str, Any]], querysets: dict[str, QuerySet[Any]],
              path: str, queryset: QuerySet[Any]) -> Rows:
    """``node``'s rows from ``raw``, with their nested lists (``path``: where ``node`` is, as
    prefetch_related names it from the list's model)."""
    extras = _extras(node, queryset)
    if node.as_read and all(key == name for key, name in extras):
        return Rows(raw)
    lists = {}
    for at, owner, level in node.all_levels():
        keys = {row[at + owner.pk] for row in raw if row[at + owner.pk] is not None}
        lists[at, level.key] = _children(level, keys, querysets, path + at)
    return Rows(_build(node, row, lists, "", extras) for row in raw)


def _build(node: Node, row: dict[str, Any], lists: dict[tuple[str, str], dict[Any, Any]],
           at: str, extras: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    out = {key: row[at + column] for key, column in node.columns}
    for key, name in extras:
        out[key] = row[name]
    for joined in node.joins:
        out[joined.key] = None if row[at + joined.name] is None else _build(
            joined.node, row, lists, f"{at}{joined.name}__")
    for level in node.levels:
        out[level.key] = lists[at, level.key].get(row[at + node.pk], [])
    return out


def _children(level: Level, keys: set[Any], querysets: dict[str, QuerySet[Any]], path: str,
              ) -> dict[Any, list[Any]]:
    """The rows of ``level`` below the parents ``keys``, grouped by parent, in the order of the
    queryset they are read through."""
    where = path + level.path
    base = querysets.get(where)
    if base is None:
        base = level.model._default_manager.all()
    found: dict[Any, list[Any]] = {}
    if not keys:
        return found
    # The prefetches of the level's own queryset read the levels below it, unless the list's
    # queryset names those paths itself.
    querysets = {**{f"{where}__{inner}": nested for inner, nested in _prefetch_querysets(base).items()},
                 **querysets}
    queryset = base.filter(**{f"{level.link}__in": keys})
    if level.node is None:
        for parent, pk in queryset.values_list(level.link, "pk"):
            found.setdefault(parent, []).append(pk)
        return found
    raw = list(ValuesPlan(level.node).values(queryset, (level.link,)))
    rows = _assemble(level.node, raw, querysets, where + "__", queryset)
    for row, built in zip(raw, rows, strict=True):
        found.setdefault(row[level.link], []).append(built)
    return found


@functools.lru_cache(maxsize=1024)  # bounded: a hook may make schemas per call
def values_plan(model: type[models.Model], schema: type[BaseModel]) -> ValuesPlan:
    """The values plan of reading ``schema`` from ``model``, worked out once."""
    try:
        return ValuesPlan(_node(model, schema, ()))
    except NeedsInstances as reason:
        return ValuesPlan(None, str(reason))


def _node(model: type[models.Model], schema: type[BaseModel], seen: tuple[type, ...]) -> Node:
    if schema in seen:
        raise NeedsInstances(f"{schema.__name__} nests itself")
    columns, joins, levels, extras = [], [], [], []
    for name, info in schema.model_fields.items():
        key, where = input_key(schema, name, info), f"{schema.__name__}.{name}"
        if field_options(info).orm_method is not None:
            raise NeedsInstances(f"{where} is read with orm_method")
        attribute = orm_name(name, info)
        field = _field(model, attribute, where)
        if field is None:
            extras.append((key, attribute))
        elif not field.is_relation:
            columns.append((key, field.attname if attribute == field.attname else field.name))
        else:
            part = _relation(model, field, info, key, where, (*seen, schema))
            if isinstance(part, Joined):
                joins.append(part)
            elif isinstance(part, Level):
                levels.append(part)
            else:
                columns.append(part)
    pk = next((column for _, column in columns if column == model._meta.pk.attname), "pk")
    as_read = not (joins or levels) and all(key == column for key, column in columns) and (
        schema.model_config.get("extra") in (None, "ignore"))  # the row's other keys are dropped
    return Node(model, tuple(columns), tuple(joins), tuple(levels), tuple(extras), pk, as_read)


def _field(model: type[models.Model], attribute: str, where: str) -> Any:
    """The model field ``attribute`` names; None for a name the model has nothing of (an
    annotation's); NeedsInstances for a property, a method or a field with a descriptor of its own."""
    if attribute == "pk":
        return model._meta.pk
    try:
        field = model._meta.get_field(attribute)
    except FieldDoesNotExist:
        for relation in model._meta.related_objects:  # a reverse relation by its accessor (``team_set``)
            if relation.get_accessor_name() == attribute:
                return relation
        if hasattr(model, attribute):
            raise NeedsInstances(f"{where} reads {model.__name__}.{attribute}, not a field") from None
        return None
    if not field.is_relation and type(getattr(model, field.attname, None)) is not DeferredAttribute:  # type: ignore[union-attr]
        raise NeedsInstances(f"{where} reads {model.__name__}.{attribute}, whose value is not its column")
    return field


def _relation(model: type[models.Model], field: Any, info: FieldInfo, key: str, where: str,
              seen: tuple[type, ...]) -> Joined | Level | tuple[str, str]:
    """A relation field read as a joined object, a nested list, or its column (an id)."""
    nested = nested_model(info.annotation)
    related = field.related_model
    if field.concrete and (field.many_to_one or field.one_to_one):
        if field.target_field != related._meta.pk:
            raise NeedsInstances(f"{where}: the ForeignKey points at a column other than the primary key")
        if nested is None:
            return key, field.name  # its column: the related row's id
        if nested[1]:
            raise NeedsInstances(f"{where} reads one related row as a list")
        return Joined(key, field.name, _node(related, nested[0], seen))
    if not (field.one_to_many or field.many_to_many) or not isinstance(related, type):
        raise NeedsInstances(f"{where} reads a {type(field).__name__}")
    if (nested[1] is False) if nested is not None else collection_item(info.annotation) is None:
        raise NeedsInstances(f"{where} reads a to-many relation as one value")
    reverse = isinstance(field, ForeignObjectRel)  # (a ManyToManyField is not concrete in Django 6)
    link = field.field.name if reverse else field.related_query_name()
    if field.one_to_many and field.field.target_field != model._meta.pk:
        raise NeedsInstances(f"{where}: the ForeignKey points at a column other than the primary key")
    path = field.get_accessor_name() if reverse else field.name
    node = _node(related, nested[0], seen) if nested is not None else None
    return Level(key, path, related, link, node)
