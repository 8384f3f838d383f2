"""Writing a validated body onto model instances: fields by name, ForeignKeys by id (checked),
nested lists synchronised by id, model validation before every save.

A schema field maps to the model field of the same name (a ForeignKey as ``company_id``, or as
``company`` holding the id), to a property with a setter, to a reverse ForeignKey holding a
list of nested objects (``departments: list[DepartmentIn]``), or to a many-to-many field
holding a list of ids. Anything else is refused when the viewset is registered.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import ForeignObjectRel, UniqueConstraint
from django.utils import timezone
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from djfapi.exceptions import ImproperlyConfigured, InvalidInput
from djfapi.meta import concrete_field, many_to_many, reverse_relation
from djfapi.schemas.fields import field_options, field_scopes, orm_name
from djfapi.schemas.forms import KEPT, place_upload, store_uploads
from djfapi.schemas.saving import fits_a_column, loaded_rows, lock, save_changes
from djfapi.schemas.types import collection_item, is_model, nested_model, optional_inner
from djfapi.tenancy import tenant_lookup as tenant_lookup  # imported from here before djfapi.tenancy

__all__ = ["NestedRows", "OrmWriter", "check_write_schema", "server_owned_fields", "transfer_to_orm"]

Loc = tuple[Any, ...]


class NestedRows(Protocol):
    """How the rows of one nested list below one saved instance are written."""

    def existing(self) -> dict[Any, models.Model]:
        """The rows the list holds now, by pk."""

    def server_owned(self, row: models.Model) -> Collection[str]:
        """Fields of ``row`` that no body sets."""

    def save(self, row: models.Model, item: BaseModel, loc: Loc) -> None:
        """Check, stamp, validate and save ``row`` (new, or changed by ``item``), then its own
        nested lists."""

    def delete(self, row: models.Model, loc: Loc) -> None:
        """Delete ``row``, which the body left out."""


def _settable_attribute(model: type[models.Model], name: str) -> bool:
    attribute = getattr(model, name, None)
    return isinstance(attribute, property) and attribute.fset is not None


def server_owned_fields(model: type[models.Model], *, creating: bool = False) -> set[str]:
    """Fields no body sets: the pk (on create only when the server generates it: an auto field
    or one with a default), ``editable=False`` and ``auto_now``/``auto_now_add`` fields."""
    pk = model._meta.pk
    owned = set()
    if not creating or isinstance(pk, models.AutoField) or pk.has_default():
        owned.add(pk.name)
    for field in model._meta.concrete_fields:
        if not field.editable or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            owned.add(field.name)
    return owned


def check_write_schema(model: type[models.Model], schema: type[BaseModel], owner: str) -> None:
    """Raise ImproperlyConfigured when a field of ``schema`` names nothing djfapi can write."""
    for schema_name, info in schema.model_fields.items():
        if field_options(info).orm_method is not None:
            continue
        name = orm_name(schema_name, info)
        field = concrete_field(model, name)
        if field is not None:
            if field.is_relation and nested_model(info.annotation) is not None:
                raise ImproperlyConfigured(
                    f"{owner}: {schema.__name__}.{name} nests an object, but ForeignKeys are "
                    f"written by id; declare `{field.attname}: int` instead."
                )
            continue
        relation = reverse_relation(model, name)
        if relation is not None:
            nested = nested_model(info.annotation)
            if nested is None or not nested[1]:
                raise ImproperlyConfigured(
                    f"{owner}: {schema.__name__}.{name} is the reverse ForeignKey from "
                    f"{relation.related_model.__name__}; declare it as a list of a schema, "
                    f"e.g. `{name}: list[{relation.related_model.__name__}In]`."
                )
            check_write_schema(relation.related_model, nested[0], owner)
            continue
        if many_to_many(model, name) is not None:
            item = collection_item(info.annotation)
            if item is None or is_model(optional_inner(item)):
                raise ImproperlyConfigured(
                    f"{owner}: {schema.__name__}.{name} is a many-to-many field; declare it as "
                    f"a list of ids, e.g. `{name}: list[int]`."
                )
            continue
        if not _settable_attribute(model, name):
            raise ImproperlyConfigured(
                f"{owner}: field {name!r} of {schema.__name__} is not a field of "
                f"{model.__name__} (nor a reverse ForeignKey, many-to-many field or property "
                f"with a setter). Rename it to one of "
                f"{sorted(f.attname for f in model._meta.concrete_fields)} or leave it out."
            )


def _assign_file(field: models.FileField, instance: models.Model, value: Any, loc: list[Any],
                 errors: list[dict[str, Any]]) -> None:
    """A JSON body never names a stored file: null or "" clears it, the file's own URL or name
    (what a read gave) keeps it, any other string is refused, so no body points a row at a path.
    A file a form uploaded is saved through the field's storage."""
    current = getattr(instance, field.name)
    if value is KEPT:
        return
    if isinstance(value, UploadFile):
        problem = place_upload(field, instance, value)
        if problem is not None:
            errors.append({"loc": loc, "type": "file", "msg": problem})
    elif value is None or value == "":
        setattr(instance, field.attname, None if field.null else "")
    elif not (current and value in (current.name, current.url)):
        errors.append({"loc": loc, "type": "file",
                       "msg": f"{field.name} is a file: a JSON body cannot set it to a path or URL "
                              "(send null or \"\" to clear it, or the URL it reads as to keep it)."})


def _in_utc(value: datetime.datetime, loc: list[Any], errors: list[dict[str, Any]]) -> datetime.datetime:
    """``value`` as the column stores it (in UTC with ``USE_TZ``, an offset every database
    takes), or an error at ``loc`` when that is outside years 1-9999."""
    try:
        if settings.USE_TZ and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(datetime.UTC) if timezone.is_aware(value) else value
    except (OverflowError, ValueError):
        errors.append({"loc": loc, "type": "datetime_range",
                       "msg": "The moment is outside years 1-9999 once in UTC, which no database stores."})
        return value


@dataclass
class OrmWriter:
    """Writes bodies onto instances; ``reference_queryset(model)`` is what ids may point at,
    ``prepare_new(instance)`` sets server-owned fields (the tenant) on nested new rows."""

    reference_queryset: Callable[[type[models.Model]], models.QuerySet[Any]]
    prepare_new: Callable[[models.Model], None] | None = None  # stamps a nested row before saving
    owned_field: str | None = None  # a field no nested body sets either (the tenant)
    # The rules for one nested list (a viewset's); None, or one that answers None: these plain ones.
    rows_for: Callable[[models.Model, ForeignObjectRel], NestedRows | None] | None = None
    granted: Collection[str] | None = None  # the caller's scopes: a nested row keeps what they hide

    def withheld(self, item: BaseModel) -> set[str]:
        """The model fields behind ``item``'s fields hidden from the caller by scopes: an
        existing nested row keeps them as stored (sending one is a 403)."""
        if self.granted is None:
            return set()
        return {orm_name(name, info) for name, info in type(item).model_fields.items()
                if (scopes := field_scopes(info)) is not None and not set(scopes) & set(self.granted)}

    def assign(
        self, data: BaseModel, instance: models.Model, *, partial: bool = False,
        exclude: Collection[str] = (), loc: Loc = ("body",),
    ) -> None:
        """Set the body's plain fields and ForeignKey ids on ``instance`` (not saved)."""
        model = type(instance)
        errors: list[dict[str, Any]] = []
        for name, info in type(data).model_fields.items():
            if partial and name not in data.model_fields_set:
                continue
            value, target, method = getattr(data, name), orm_name(name, info), field_options(info).orm_method
            if method is not None:
                method(instance, value)
                continue
            field = concrete_field(model, target)
            if field is None:
                if _settable_attribute(model, target) and target not in exclude:
                    setattr(instance, target, value)
                continue
            if field.name in exclude or field.attname in exclude:
                continue
            if isinstance(field, models.FileField):
                _assign_file(field, instance, value, [*loc, name], errors)
                continue
            if isinstance(field, models.DateTimeField) and isinstance(value, datetime.datetime):
                value = _in_utc(value, [*loc, name], errors)
            related = field.related_model if field.is_relation else None
            if isinstance(related, type) and value is not None and not self._visible(field, related, value):
                errors.append({"loc": [*loc, name], "type": "reference",
                               "msg": f"No {related._meta.verbose_name} with id {value}."})
            setattr(instance, field.attname, value)
        if errors:
            raise InvalidInput(errors)

    def _visible(self, field: models.Field[Any, Any], related: type[models.Model], value: Any) -> bool:
        if not fits_a_column(value):
            return False
        target = field.target_field.name  # type: ignore[attr-defined]  # a ForeignKey's
        return self.reference_queryset(related).filter(**{target: value}).exists()

    def write_nested(
        self, instance: models.Model, data: BaseModel, *, partial: bool = False, loc: Loc = ("body",),
    ) -> None:
        """After ``instance`` is saved: synchronise the nested lists and many-to-many ids the
        body sent. One it did not send is left as it is, by PUT as by PATCH (``[]`` empties it)."""
        model = type(instance)
        for name, info in type(data).model_fields.items():
            value = getattr(data, name)
            if name not in data.model_fields_set or value is None:
                continue
            relation = reverse_relation(model, orm_name(name, info))
            m2m = many_to_many(model, orm_name(name, info))
            if relation is not None:
                self._sync(instance, relation, value, (*loc, name), partial=partial)
            elif m2m is not None:
                self._set_ids(instance, m2m, value, (*loc, name))

    def _sync(self, instance: models.Model, relation: ForeignObjectRel, items: list[BaseModel],
              loc: Loc, *, partial: bool = False) -> None:
        """Delete the items left out (first: a new item may take the unique value of one left
        out), then update items sent with an id (in a PATCH, only the fields each sends) and
        create those without."""
        lock(instance)  # taken before the list is read: a concurrent sync of it waits, then reads it anew
        rows = (self.rows_for and self.rows_for(instance, relation)) or PlainRows(self, instance, relation)
        child_model = relation.related_model
        existing = rows.existing()
        pks = _item_pks(items, existing, child_model, loc)
        for pk, child in existing.items():
            if pk not in pks:
                rows.delete(child, loc)
        for index, (item, pk) in enumerate(zip(items, pks, strict=True)):
            child = existing[pk] if pk is not None else child_model()
            kept = {*rows.server_owned(child), *(self.withheld(item) if pk is not None else ())}
            self.assign(item, child, partial=partial and pk is not None, exclude=kept, loc=(*loc, index))
            setattr(child, relation.field.name, instance)
            rows.save(child, item, (*loc, index))

    def _set_ids(self, instance: models.Model, field: models.ManyToManyField[Any, Any], ids: list[Any],
                 loc: Loc) -> None:
        found = set(self.reference_queryset(field.related_model)
                    .filter(pk__in=[value for value in ids if fits_a_column(value)])
                    .values_list("pk", flat=True))
        missing = [value for value in ids if value not in found]
        if missing:
            raise InvalidInput.at(loc, f"No {field.related_model._meta.verbose_name} with id "
                                  f"{', '.join(map(str, missing))}.", "reference")
        getattr(instance, field.name).set(ids)

    def validate(self, instance: models.Model, *, loc: Loc = ("body",), hidden: Collection[str] = ()) -> None:
        """Model validation before saving: 422 for invalid values, 409 for uniqueness (naming
        only the fields a client sets: not ``hidden`` ones, such as the tenant or the parent)."""
        hidden = {*hidden, self.owned_field or ""}
        stored = store_uploads(instance)  # the row is complete now: a callable upload_to sees it all
        if stored:
            raise InvalidInput([{"loc": [*loc, name], "type": "file", "msg": f"{name}: {problem}"}
                                for name, problem in stored])
        relations = [f.name for f in instance._meta.concrete_fields if f.is_relation]
        try:  # ForeignKeys are checked by assign() against what the caller may see
            instance.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise InvalidInput(_errors(instance, exc, loc)) from exc
        try:
            instance.validate_unique()
        except ValidationError as exc:
            raise InvalidInput(_errors(instance, exc, loc, "unique", hidden), status_code=409) from exc
        for constraint in instance._meta.constraints:
            try:
                constraint.validate(type(instance), instance)
            except ValidationError as exc:
                unique = isinstance(constraint, UniqueConstraint)
                raise InvalidInput(_errors(instance, exc, loc, "unique" if unique else None, hidden),
                                   status_code=409 if unique else 422) from exc


def _item_pks(items: list[BaseModel], existing: dict[Any, models.Model], child_model: type[models.Model],
              loc: Loc) -> list[Any]:
    """The pk each item of a nested list names (None: a new row); a 422 for one that is not in
    the list, or named twice."""
    pk_name = child_model._meta.pk.name
    pks: list[Any] = []
    for index, item in enumerate(items):
        pk = getattr(item, pk_name, None) if pk_name in type(item).model_fields else None
        if pk is not None and pk not in existing:
            raise InvalidInput.at((*loc, index, pk_name), f"No {child_model._meta.verbose_name} "
                                  f"with id {pk} here.", "reference")
        if pk is not None and pk in pks:
            raise InvalidInput.at((*loc, index, pk_name), f"{child_model._meta.verbose_name} {pk} is "
                                  "in this list twice.", "duplicate")
        pks.append(pk)
    return pks


@dataclass
class PlainRows:
    """A nested list written by the rules of the viewset whose body holds it: its writer's
    ``prepare_new`` stamps each row, then model validation and a save."""

    writer: OrmWriter
    parent: models.Model
    relation: ForeignObjectRel

    def existing(self) -> dict[Any, models.Model]:
        # Only rows the caller may reference: another tenant's (below a parent of no tenant) stay as they are.
        visible = self.writer.reference_queryset(self.relation.related_model).values("pk")
        rows = getattr(self.parent, str(self.relation.get_accessor_name()))
        return loaded_rows(rows.filter(pk__in=visible))

    def server_owned(self, row: models.Model) -> Collection[str]:
        return server_owned_fields(self.relation.related_model) | {
            self.relation.field.name, self.writer.owned_field or ""}

    def save(self, row: models.Model, item: BaseModel, loc: Loc) -> None:
        if self.writer.prepare_new is not None:
            self.writer.prepare_new(row)
        self.writer.validate(row, loc=loc, hidden=self.server_owned(row))
        if row._state.adding:
            row.save(force_insert=True)
        else:
            save_changes(row)
        self.writer.write_nested(row, item, loc=loc)

    def delete(self, row: models.Model, loc: Loc) -> None:
        row.delete()


def _errors(instance: models.Model, exc: ValidationError, loc: Loc,
            type_: str | None = None, hidden: Collection[str] = ()) -> list[dict[str, Any]]:
    """Django's ValidationError as errors at body locations (a ForeignKey's by its attname)."""
    errors = []
    by_field = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for name, field_errors in by_field.items():
        field = concrete_field(type(instance), name) if name != NON_FIELD_ERRORS else None
        where = [*loc] if field is None else [*loc, field.attname if field.is_relation else name]
        for error in field_errors:
            message = error.message % error.params if error.params else error.message
            fields = _unique_fields(instance, error, hidden)
            if fields:  # "Company with this Tenant id and Name …" names a field no client sends
                noun = str(instance._meta.verbose_name)
                article = "An" if noun[:1].lower() in "aeiou" else "A"
                message = f"{article} {noun} with this {' and '.join(fields)} already exists."
                where = [*loc, fields[0]] if len(fields) == 1 else where
            errors.append({"loc": where, "msg": str(message),
                           "type": type_ or error.code or "validation_error"})
    return errors


def _unique_fields(instance: models.Model, error: ValidationError, hidden: Collection[str]) -> list[str]:
    """The fields of a uniqueness error a client may set (not ``hidden`` nor other server-owned
    ones); [] for other errors."""
    check = (error.params or {}).get("unique_check")
    if not check:
        return []
    owned = server_owned_fields(type(instance)) | set(hidden)
    return [name for name in check if name not in owned]


def transfer_to_orm(
    pydantic_obj: BaseModel,
    django_obj: models.Model,
    *,
    exclude_unset: bool = False,
    exclude: Collection[str] = (),
) -> None:
    """Set the plain fields and ForeignKey ids of ``pydantic_obj`` on ``django_obj`` (djdantic's
    name). Ids are checked against each model's default manager; nested lists are written by
    the viewsets, after saving."""
    OrmWriter(lambda model: model._default_manager.all()).assign(
        pydantic_obj, django_obj, partial=exclude_unset, exclude=exclude
    )
