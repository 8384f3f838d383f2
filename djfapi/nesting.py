"""Nested rows written and read through a parent's viewset, as the child's own routes would.

A body's nested list whose rows have a viewset registered below the parent's is written
through that viewset (:class:`ChildRows`): its scopes, permissions, queryset and hooks. A
nested list in a response shows what that viewset's list would (:meth:`RegisteredNesting.querysets`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import ForeignObjectRel, QuerySet

from djfapi.call import Call, granted, listed, make_viewset, visible
from djfapi.routes import Registration
from djfapi.schemas.saving import loaded_rows
from djfapi.schemas.writing import NestedRows
from djfapi.viewsets.generic import GenericViewSet

__all__ = ["ChildRows", "RegisteredNesting"]


@dataclass(frozen=True)
class RegisteredNesting:
    """The viewsets registered below ``registration``, as nested lists in a body or a response
    of its viewset meet them during ``call`` (see :class:`~djfapi.viewsets.generic.Nesting`)."""

    registration: Registration
    call: Call

    def rows(self, viewset: GenericViewSet, instance: models.Model,
             relation: ForeignObjectRel) -> NestedRows | None:
        child = self.registration.child_for(relation.related_model, relation.field.name)
        return None if child is None else ChildRows(child, self.call, viewset, instance, relation)

    def querysets(self, viewset: GenericViewSet, paths: Sequence[str]) -> dict[str, QuerySet[Any]]:
        found = {}
        for path in paths:
            registration: Registration | None = self.registration
            model = self.registration.viewset.get_model()
            for part in path.split("__"):
                relation = model._meta.get_field(part)
                if registration is None or not isinstance(relation, ForeignObjectRel):
                    registration = None
                    break
                if not relation.one_to_many or not isinstance(relation.related_model, type):
                    registration = None  # only reverse ForeignKeys lead to registered children
                    break
                model = relation.related_model
                registration = registration.child_for(model, relation.field.name)
            if registration is not None:
                found[path] = listed(registration, self.call)
        return found


_NESTED_VERBS = {"create": "Creating", "update": "Changing", "destroy": "Deleting"}


class ChildRows:
    """A nested list written as the child's own routes would write it: each new row needs the
    child's ``create`` scopes and permissions and goes through its ``perform_create``; a
    changed row and a deleted one must be in the child's ``get_queryset()`` for that action
    and pass its object permissions, and go through ``perform_update`` / ``perform_destroy``."""

    def __init__(self, registration: Registration, call: Call, parent_viewset: GenericViewSet,
                 parent: models.Model, relation: ForeignObjectRel) -> None:
        self.registration, self.call, self.parent, self.relation = registration, call, parent, relation
        self.grandparent = parent_viewset.parent
        self.access = parent_viewset.access
        self.viewsets: dict[str, GenericViewSet] = {}
        self.visible: dict[str, set[Any]] = {}

    def viewset(self, action: str) -> GenericViewSet:
        """The child's viewset for ``action``, its scopes and permissions checked once."""
        if action not in self.viewsets:
            registration = self.registration
            if not self.routed(action):
                raise PermissionDenied(f"{self.doing(action)} through this body is not allowed: "
                                       f"the route of {self.noun} has no {action}.")
            required = registration.granting[action]
            access = self.access if registration.security is not None else None
            access = granted(self.call, registration, access, required, registration.checks_scopes,
                             lambda: self.denial(action, required))
            self.check_parent(action, required)
            viewset = make_viewset(registration, action, self.call, access, required_scopes=required,
                                   nesting=RegisteredNesting(registration, self.call))
            viewset.parent = self.parent
            viewset.check_permissions()
            self.viewsets[action] = viewset
        return self.viewsets[action]

    def check_parent(self, action: str, required: tuple[str, ...] | None) -> None:
        """The child's own route would need the caller to read the parent (its retrieve scopes
        and queryset) and, with scopes inherited from it, to see it under the granting scope's
        selector (`update.own`): the same holds for a body."""
        link = self.registration.parent
        assert link is not None
        retrieve = link.granting["retrieve"]
        checked = self.registration.check_parent_scopes and link.checks_scopes
        noun = link.viewset.get_model()._meta.verbose_name
        granted(self.call, link, self.call.access_for(link), retrieve, checked,
                lambda: f"{self.doing(action)} through this body needs reading the {noun}: "
                        f"{', '.join(retrieve or ())}.")
        inherited = required if self.registration.scopes_from is link and required != retrieve else None
        for scopes in (retrieve, inherited) if inherited else (retrieve,):
            if not visible(link, self.call, scopes, self.parent, self.grandparent):
                raise PermissionDenied(f"{self.doing(action)} through this body is not allowed: the "
                                       f"{noun} is not one the caller could reach them through.")

    @property
    def noun(self) -> str:
        return str(self.registration.viewset.get_model()._meta.verbose_name_plural)

    def routed(self, action: str) -> bool:
        """Whether the child's own route offers ``action`` (its method, and its schema if any)."""
        viewset = self.registration.viewset
        has_schema = action == "destroy" or viewset.declared_schema(action) is not None
        return callable(getattr(viewset, action, None)) and has_schema

    def doing(self, action: str) -> str:
        return f"{_NESTED_VERBS[action]} {self.noun}"

    def denial(self, action: str, required: tuple[str, ...] | None) -> str:
        needs = f"one of the scopes {', '.join(required)}" if required else "a scope no one is granted"
        return f"{self.doing(action)} through this body needs {needs}."

    def check_row(self, action: str, row: models.Model, loc: tuple[Any, ...]) -> GenericViewSet:
        """The child's viewset for ``action`` on the existing ``row``, which it must be able to see."""
        viewset = self.viewset(action)
        if action not in self.visible:
            queryset = viewset.get_queryset().select_related(None).prefetch_related(None)
            self.visible[action] = set(queryset.values_list("pk", flat=True))
        if row.pk not in self.visible[action]:
            verb = "change" if action == "update" else "delete"
            raise PermissionDenied(f"You may not {verb} {row._meta.verbose_name} {row.pk} "
                                   f"({'.'.join(map(str, loc))}).")
        viewset.check_object_permissions(row)
        return viewset

    def existing(self) -> dict[Any, models.Model]:
        """The rows the caller sees in this list (what the child's list shows them): the body
        synchronises those, and leaves rows outside the caller's view as they are."""
        seen = listed(self.registration, self.call).values("pk")
        return loaded_rows(getattr(self.parent, str(self.relation.get_accessor_name())).filter(pk__in=seen))

    def server_owned(self, row: models.Model) -> Collection[str]:
        return self.viewset("create" if row._state.adding else "update").get_server_owned_fields()

    def save(self, row: models.Model, item: Any, loc: tuple[Any, ...]) -> None:
        viewset: Any  # with the mixins' perform_* hooks, as routed() made sure
        if row._state.adding:
            viewset = self.viewset("create")
            viewset.body_loc = loc
            viewset.set_server_owned_fields(row)
            viewset.perform_create(row)
        else:
            viewset = self.check_row("update", row, loc)
            viewset.body_loc = loc
            viewset.perform_update(row)
        viewset.get_writer().write_nested(row, item, loc=loc)

    def delete(self, row: models.Model, loc: tuple[Any, ...]) -> None:
        viewset: Any = self.check_row("destroy", row, loc)
        viewset.perform_destroy(row)
