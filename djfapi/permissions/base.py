"""``BasePermission`` and its composition with ``&``, ``|`` and ``~``, on classes or instances.

Permissions see a viewset through :class:`ViewSetLike`, what a viewset offers them, so this
module sits below the viewsets. :class:`ScopeSource` is where a caller's scopes come from when
they are not the token's own (``DjangoModelPermissions`` reads the Django user's permissions).
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import models
from django.db.models import QuerySet
from starlette.requests import Request

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import Access

__all__ = ["AllowAny", "BasePermission", "ScopeSource", "ViewSetLike", "as_permission"]


class ViewSetLike(Protocol):
    """What a permission sees of the viewset serving a call."""

    request: Request | None
    action: str | None
    kwargs: dict[str, Any]
    access: Access | None
    parent: models.Model | None

    @classmethod
    def get_model(cls) -> type[models.Model]:
        """The viewset's model."""

    def get_required_scopes(self) -> tuple[str, ...] | None:
        """The scopes that grant this call's action."""

    def get_queryset(self) -> QuerySet[Any]:
        """The rows this call may see."""


class ScopeSource(Protocol):
    """Where a caller's scopes come from when the token's own are not what counts. The route
    then does not check the token's scopes; inside the request's ORM hop, ``self.access``
    holds the scopes this returns instead (looked up once a request); a caller holding none of
    an action's scopes is denied with ``message``."""

    message: str

    def granted_scopes(self, access: Access) -> frozenset[str]:
        """The scopes the caller of ``access`` holds."""


class _Composable(type):
    """Lets permission *classes* be composed: ``IsOwner | IsStaff``."""

    def __and__(cls, other: Any) -> BasePermission:
        return _instance(cls).__and__(other)  # `&` with an Any operand would be Any

    def __or__(cls, other: Any) -> BasePermission:  # type: ignore[override]  # type.__or__ makes unions
        return _instance(cls).__or__(other)

    def __invert__(cls) -> BasePermission:
        return ~_instance(cls)


class BasePermission(metaclass=_Composable):
    """Grants everything; subclasses override one or both hooks and may set ``message``."""

    message = "You may not perform this action."

    def has_permission(self, viewset: ViewSetLike) -> bool:
        """Whether the caller may run ``viewset.action`` at all."""
        return True

    def has_object_permission(self, viewset: ViewSetLike, obj: Any) -> bool:
        """Whether the caller may run ``viewset.action`` on ``obj``."""
        return True

    def denial_message(self, viewset: ViewSetLike, obj: Any = None) -> str:
        """What a denied caller is told; defaults to ``message``."""
        return self.message

    def scope_source(self) -> ScopeSource | None:
        """The :class:`ScopeSource` this permission is or holds (composed ones look inside);
        None by default."""
        return None

    def denial(self, viewset: ViewSetLike, obj: Any = None) -> str | None:
        """None when ``has_permission`` (``has_object_permission`` with ``obj``) grants the
        call, else what the caller is told; the viewset asks this, checking each hook once."""
        granted = self.has_permission(viewset) if obj is None else self.has_object_permission(viewset, obj)
        return None if granted else self.denial_message(viewset, obj)

    def __and__(self, other: Any) -> BasePermission:
        return _And(self, as_permission(other))

    def __or__(self, other: Any) -> BasePermission:
        return _Or(self, as_permission(other))

    def __invert__(self) -> BasePermission:
        return _Not(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _instance(cls: _Composable) -> BasePermission:
    """An instance of a permission class (the metaclass only makes BasePermission classes)."""
    permission = cls()
    assert isinstance(permission, BasePermission)
    return permission


def as_permission(value: BasePermission | type[BasePermission]) -> BasePermission:
    """An instance for an entry of ``permission_classes``, which may hold classes or instances."""
    return value() if isinstance(value, type) else value


def check_permission_classes(owner: str, permission_classes: Any) -> None:
    """Raise ImproperlyConfigured, at ``router.register()``, for an entry of
    ``permission_classes`` that is no permission (it would make every request a 500)."""
    for entry in permission_classes:
        permission = as_permission(entry)
        if not all(callable(getattr(permission, name, None))
                   for name in ("has_permission", "has_object_permission")):
            raise ImproperlyConfigured(
                f"{owner}.permission_classes holds {entry!r}, which is no permission: give "
                "BasePermission subclasses (or instances) with has_permission(viewset) and "
                "has_object_permission(viewset, obj).")


class AllowAny(BasePermission):
    """Grants every call (the explicit form of an empty ``permission_classes``)."""


class _And(BasePermission):
    def __init__(self, first: BasePermission, second: BasePermission) -> None:
        self.first, self.second = first, second

    def denial_message(self, viewset: ViewSetLike, obj: Any = None) -> str:
        """The message of the side that denied (checked again: instances are shared by requests)."""
        granted = (self.first.has_permission(viewset) if obj is None
                   else self.first.has_object_permission(viewset, obj))
        return (self.second if granted else self.first).denial_message(viewset, obj)

    def denial(self, viewset: ViewSetLike, obj: Any = None) -> str | None:
        """The denial of the first side, else of the second: each side is checked once."""
        first = self.first.denial(viewset, obj)
        return first if first is not None else self.second.denial(viewset, obj)

    def has_permission(self, viewset: ViewSetLike) -> bool:
        return self.first.has_permission(viewset) and self.second.has_permission(viewset)

    def has_object_permission(self, viewset: ViewSetLike, obj: Any) -> bool:
        return self.first.has_object_permission(viewset, obj) and self.second.has_object_permission(
            viewset, obj
        )

    def scope_source(self) -> ScopeSource | None:
        return self.first.scope_source() or self.second.scope_source()

    def __repr__(self) -> str:
        return f"({self.first!r} & {self.second!r})"


class _Or(_And):
    def denial_message(self, viewset: ViewSetLike, obj: Any = None) -> str:
        return self.first.denial_message(viewset, obj)

    def denial(self, viewset: ViewSetLike, obj: Any = None) -> str | None:
        """None when a side grants, else the first side's denial: each side is checked once."""
        first = self._side_denial(self.first, viewset, obj)
        if first is None or self._side_denial(self.second, viewset, obj) is None:
            return None
        return first

    @staticmethod
    def _side_denial(side: BasePermission, viewset: ViewSetLike, obj: Any) -> str | None:
        # As in DRF: the object check of a side counts only where that side granted the call.
        denied = side.denial(viewset)
        return denied if denied is not None or obj is None else side.denial(viewset, obj)

    def has_permission(self, viewset: ViewSetLike) -> bool:
        return self.first.has_permission(viewset) or self.second.has_permission(viewset)

    def has_object_permission(self, viewset: ViewSetLike, obj: Any) -> bool:
        # As in DRF: the object check of a side counts only where that side granted the call.
        return (
            self.first.has_permission(viewset) and self.first.has_object_permission(viewset, obj)
        ) or (
            self.second.has_permission(viewset) and self.second.has_object_permission(viewset, obj)
        )

    def __repr__(self) -> str:
        return f"({self.first!r} | {self.second!r})"


class _Not(BasePermission):
    def __init__(self, inner: BasePermission) -> None:
        self.inner = inner

    def has_permission(self, viewset: ViewSetLike) -> bool:
        return not self.inner.has_permission(viewset)

    def has_object_permission(self, viewset: ViewSetLike, obj: Any) -> bool:
        return not self.inner.has_object_permission(viewset, obj)

    def scope_source(self) -> ScopeSource | None:
        return self.inner.scope_source()

    def __repr__(self) -> str:
        return f"~{self.inner!r}"
