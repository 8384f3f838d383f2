"""``request.user``: the caller as a Django user, when the project asks for one.

By default djfapi stays token-only: ``self.user`` (and ``self.request.user``) is a
:class:`TokenUser` made from the token's claims, without a query, or Django's
``AnonymousUser`` on a route without security. A project that wants its own users sets a
loader, for every viewset or for one::

    # settings.py
    DJFAPI = {"USER_FROM_TOKEN": "myproject.auth.users"}

    # myproject/auth.py
    from djfapi.permissions import UserBySubject
    users = UserBySubject(field="username", create=True)

    class ReportViewSet(ModelViewSet):
        user_from_token = UserBySubject()   # this viewset only

A loader is a callable ``(access) -> user | None``. With one set, the user is looked up once a
request, first thing in its threadpool hop (so ``DjangoModelPermissions`` and every hook see the
same object); a token naming no user, or an inactive one, is a 401.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string
from fastapi import HTTPException

from djfapi.exceptions import ImproperlyConfigured
from djfapi.permissions.access import Access

__all__ = ["TokenUser", "UserBySubject", "UserLoader", "current_user", "resolve_user"]

UserLoader = Callable[[Access], Any]
"""Turns the caller's token into a Django user, or None when it names none."""

_current: ContextVar[Any] = ContextVar("djfapi_user")


class TokenUser:
    """The caller when no loader is set: what the token says, shaped like a Django user
    (``is_authenticated``, ``pk``), holding no Django permissions (djfapi grants by scopes)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, access: Access) -> None:
        self.access = access
        self.pk = self.id = self.username = access.user_id

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def get_all_permissions(self, obj: Any = None) -> set[str]:
        return set()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

    def __str__(self) -> str:
        return str(self.pk)

    def __repr__(self) -> str:
        return f"TokenUser({self.pk!r})"


class UserBySubject:
    """The Django user whose ``field`` equals the token's ``sub``; with ``create=True`` one is
    made on the subject's first request (``defaults`` its other fields; two first requests at
    once make one user). None when there is none and ``create`` is off."""

    def __init__(self, field: str = "pk", *, create: bool = False,
                 defaults: dict[str, Any] | None = None) -> None:
        self.field, self.create, self.defaults = field, create, defaults or {}

    def __call__(self, access: Access) -> Any:
        model = get_user_model()
        manager = model._default_manager
        lookup = {self.field: access.user_id}
        try:
            if self.create:
                # Two first requests at once: get_or_create gets the row the other one made.
                return manager.get_or_create(**lookup, defaults=self.defaults)[0]
            return manager.get(**lookup)
        except (model.DoesNotExist, ValueError, TypeError):  # not there, or a sub the field cannot hold
            return None

    def __repr__(self) -> str:
        return f"UserBySubject({self.field!r}, create={self.create})"


def loader_of(value: Any) -> UserLoader | None:
    """A loader from a setting or attribute: the callable itself or its dotted path; an
    ImproperlyConfigured for anything else."""
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as error:
            raise ImproperlyConfigured(f"The user loader {value!r} cannot be imported: {error}") from error
    if value is not None and not callable(value):
        raise ImproperlyConfigured(f"A user loader is a callable (access) -> user, not {value!r}; "
                                   "e.g. djfapi.permissions.UserBySubject(field='username').")
    return typing.cast(UserLoader | None, value)


def resolve_user(access: Access | None, loader: UserLoader | None) -> Any:
    """The caller as a user for this request (see the module's docstring), remembered for
    :func:`current_user` in this hop. 401 when ``loader`` finds no active user."""
    if access is None:
        from django.contrib.auth.models import AnonymousUser  # needs the app registry: not at import

        user: Any = AnonymousUser()
    elif loader is None or access.user_id is None:  # token-only, or a service token naming no user
        user = TokenUser(access)
    else:
        user = loader(access)
        if user is None:
            raise _unauthorized("No user account matches this token.")
        if not getattr(user, "is_active", True):
            raise _unauthorized("This user account is inactive.")
    _current.set(user)
    return user


def current_user() -> Any:
    """The user :func:`resolve_user` found in this hop, or None before it ran."""
    return _current.get(None)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
