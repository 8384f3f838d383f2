"""Ready-made permission classes: ``IsAuthenticated``, ``HasScopes``, ``DjangoModelPermissions``."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model

from djfapi.permissions.access import Access
from djfapi.permissions.base import BasePermission, ScopeSource, ViewSetLike
from djfapi.permissions.users import TokenUser, current_user

__all__ = ["DjangoModelPermissions", "HasScopes", "IsAuthenticated"]


class IsAuthenticated(BasePermission):
    """Grants calls that carry a valid token."""

    message = "Authentication is required."

    def has_permission(self, viewset: ViewSetLike) -> bool:
        return viewset.access is not None


class HasScopes(BasePermission):
    """Grants calls whose caller holds at least one of ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes
        self.message = f"One of these scopes is needed: {', '.join(scopes)}."

    def has_permission(self, viewset: ViewSetLike) -> bool:
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
    action's scopes. It is the viewset's :class:`~djfapi.permissions.base.ScopeSource`: the
    token itself then needs no scopes, and the user is looked up once a request, inside its
    ORM hop."""

    message = "Your account's permissions do not allow this action."

    def has_permission(self, viewset: ViewSetLike) -> bool:
        return viewset.access is not None and bool(viewset.access.scopes)

    def scope_source(self) -> ScopeSource:
        return self

    def granted_scopes(self, access: Access) -> frozenset[str]:
        """The scopes of the active user the token's ``sub`` names; none without one. With a
        user loader set (``user_from_token``), the user it found for this request."""
        user = current_user()
        if user is None or isinstance(user, TokenUser) or user.is_anonymous:  # token-only: by pk
            user = self.get_user(access.user_id) if access.user_id is not None else None
        if user is None or not user.is_active:
            return frozenset()
        return frozenset(scope for p in user.get_all_permissions() if (scope := permission_to_scope(p)))

    def get_user(self, user_id: str) -> Any:
        """The Django user the token's ``sub`` names, written as its pk is (``"10"``, not
        ``" 10"`` or ``"010"``, which the pk field would also read as 10), or None."""
        model = get_user_model()
        try:
            user = model._default_manager.get(pk=user_id)
        except (model.DoesNotExist, ValueError, TypeError):
            return None
        return user if str(user.pk) == user_id else None
