"""``BasePermission`` and its composition with ``&``, ``|`` and ``~``, on classes or instances."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from djfapi.viewsets.generic import GenericViewSet

__all__ = ["AllowAny", "BasePermission", "as_permission"]


class _Composable(type):
    """Lets permission *classes* be composed: ``IsOwner | IsStaff``."""

    def __and__(cls, other: Any) -> BasePermission:
        return as_permission(cls) & other  # type: ignore[arg-type]

    def __or__(cls, other: Any) -> BasePermission:  # type: ignore[override]
        return as_permission(cls) | other  # type: ignore[arg-type]

    def __invert__(cls) -> BasePermission:
        return ~as_permission(cls)  # type: ignore[arg-type]


class BasePermission(metaclass=_Composable):
    """Grants everything; subclasses override one or both hooks and may set ``message``."""

    message = "You may not perform this action."

    def has_permission(self, viewset: GenericViewSet) -> bool:
        """Whether the caller may run ``viewset.action`` at all."""
        return True

    def has_object_permission(self, viewset: GenericViewSet, obj: Any) -> bool:
        """Whether the caller may run ``viewset.action`` on ``obj``."""
        return True

    def denial_message(self, viewset: GenericViewSet, obj: Any = None) -> str:
        """What a denied caller is told; defaults to ``message``."""
        return self.message

    def denial(self, viewset: GenericViewSet, obj: Any = None) -> str | None:
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


def as_permission(value: BasePermission | type[BasePermission]) -> BasePermission:
    """An instance for an entry of ``permission_classes``, which may hold classes or instances."""
    return value() if isinstance(value, type) else value


class AllowAny(BasePermission):
    """Grants every call (the explicit form of an empty ``permission_classes``)."""


class _And(BasePermission):
    def __init__(self, first: BasePermission, second: BasePermission) -> None:
        self.first, self.second = first, second

    def denial_message(self, viewset: GenericViewSet, obj: Any = None) -> str:
        """The message of the side that denied (checked again: instances are shared by requests)."""
        granted = (self.first.has_permission(viewset) if obj is None
                   else self.first.has_object_permission(viewset, obj))
        return (self.second if granted else self.first).denial_message(viewset, obj)

    def denial(self, viewset: GenericViewSet, obj: Any = None) -> str | None:
        """The denial of the first side, else of the second: each side is checked once."""
        first = self.first.denial(viewset, obj)
        return first if first is not None else self.second.denial(viewset, obj)

    def has_permission(self, viewset: GenericViewSet) -> bool:
        return self.first.has_permission(viewset) and self.second.has_permission(viewset)

    def has_object_permission(self, viewset: GenericViewSet, obj: Any) -> bool:
        return self.first.has_object_permission(viewset, obj) and self.second.has_object_permission(
            viewset, obj
        )

    def __repr__(self) -> str:
        return f"({self.first!r} & {self.second!r})"


class _Or(_And):
    def denial_message(self, viewset: GenericViewSet, obj: Any = None) -> str:
        return self.first.denial_message(viewset, obj)

    def denial(self, viewset: GenericViewSet, obj: Any = None) -> str | None:
        """None when a side grants, else the first side's denial: each side is checked once."""
        first = self._side_denial(self.first, viewset, obj)
        if first is None or self._side_denial(self.second, viewset, obj) is None:
            return None
        return first

    @staticmethod
    def _side_denial(side: BasePermission, viewset: GenericViewSet, obj: Any) -> str | None:
        # As in DRF: the object check of a side counts only where that side granted the call.
        denied = side.denial(viewset)
        return denied if denied is not None or obj is None else side.denial(viewset, obj)

    def has_permission(self, viewset: GenericViewSet) -> bool:
        return self.first.has_permission(viewset) or self.second.has_permission(viewset)

    def has_object_permission(self, viewset: GenericViewSet, obj: Any) -> bool:
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

    def has_permission(self, viewset: GenericViewSet) -> bool:
        return not self.inner.has_permission(viewset)

    def has_object_permission(self, viewset: GenericViewSet, obj: Any) -> bool:
        return not self.inner.has_object_permission(viewset, obj)

    def __repr__(self) -> str:
        return f"~{self.inner!r}"
