"""Ready-made permission classes: ``IsAuthenticated``, ``HasScopes``, ``DjangoModelPermissions``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from djfapi.permissions.base import BasePermission

if TYPE_CHECKING:
    from djfapi.viewsets.generic import GenericViewSet

__all__ = ["DjangoModelPermissions", "HasScopes", "IsAuthenticated"]


class IsAuthenticated(BasePermission):
    """Grants calls that carry a valid token."""

    message = "Authentication is required."

    def has_permission(self, viewset: GenericViewSet) -> bool:
        return viewset.access is not None


class HasScopes(BasePermission):
    """Grants calls whose caller holds at least one of ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes
        self.message = f"One of these scopes is needed: {', '.join(scopes)}."

    def has_permission(self, viewset: GenericViewSet) -> bool:
        return viewset.access is not None and viewset.access.has_scope(*self.scopes)

    def __repr__(self) -> str:
        return f"HasScopes({', '.join(map(repr, self.scopes))})"


_PERMISSION = re.compile(r"^(?P<service>\w+)\.(?P<action>[a-zA-Z0-9]+)_(?P<resource>[a-zA-Z0-9]+)"
                         r"(_(?P<selector>.*))?$")
_CRUD = {"add": "create", "view": "read", "change": "update", "delete": "delete"}


def permission_to_scope(permission: str) -> str | None:
    """Django's ``app.change_company[_own]`` as the scope ``app.company.update.own`` (``any``
    when there is no selector, none for ``add``), as djfapi 0.0.x mapped them; None when it
    does not fit."""
    match = _PERMISSION.match(permission)
    if not match or match["action"] not in _CRUD:
        return None
    parts = [match["service"], match["resource"], _CRUD[match["action"]]]
    if match["action"] != "add":
        parts.append(match["selector"] or "any")
    return ".".join(parts)


class DjangoModelPermissions(BasePermission):
    """The caller's scopes are their Django user's permissions (the user found by the token's
    ``sub``), as 0.0.x's ``JWTTokenDjangoPermissions``; grants when one of them is among the
    action's scopes. Looks the user up inside the request's ORM hop; the token itself then
    needs no scopes."""

    message = "Your account's permissions do not allow this action."
    supplies_scopes = True

    def has_permission(self, viewset: GenericViewSet) -> bool:
        access = viewset.access
        if access is None or access.user_id is None:
            return False
        user = self.get_user(access.user_id)
        if user is None or not user.is_active:
            return False
        granted = {scope for p in user.get_all_permissions() if (scope := permission_to_scope(p))}
        viewset.access = access.with_granted(granted).for_action(viewset.get_required_scopes() or ())
        return bool(viewset.access.scopes)

    def get_user(self, user_id: str) -> Any:
        """The Django user the token's ``sub`` names, or None."""
        model = get_user_model()
        try:
            return model._default_manager.get(pk=user_id)
        except (model.DoesNotExist, ValueError):
            return None


def supplies_scopes(permissions: Sequence[Any]) -> bool:
    """Whether one of ``permissions`` looks the caller's scopes up itself."""
    def check(permission: Any) -> bool:
        inner = [getattr(permission, name, None) for name in ("first", "second", "inner")]
        return bool(getattr(permission, "supplies_scopes", False)) or any(
            check(part) for part in inner if part is not None)
    return any(check(permission) for permission in permissions)
