"""Who is calling: ``Access`` (the token's claims and the scopes that count for this action),
``AccessScope`` (``service.resource.action[.selector]``) and ``Scopes`` (which scopes grant
which action of a viewset).

::

    scopes = Scopes(
        get=["business.companies.read.any", "business.companies.read.own"],
        post=["business.companies.create"],
        archive=["business.companies.update.any"],     # an action by name
    )

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.access.scope.selector == "own":
            queryset = queryset.filter(employees__user_id=self.access.user_id)
        return queryset
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["ANY_VALID_TOKEN", "SAFE_METHODS", "Access", "AccessScope", "AccessToken", "ScopeList", "Scopes"]

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""The methods that only read: their routes need read scopes and run outside a transaction."""


class _AnyValidToken(enum.Enum):
    ANY_VALID_TOKEN = "ANY_VALID_TOKEN"

    def __repr__(self) -> str:
        return "ANY_VALID_TOKEN"


ANY_VALID_TOKEN: Final = _AnyValidToken.ANY_VALID_TOKEN
"""``Scopes(get=ANY_VALID_TOKEN)``: the action needs a valid token but no particular scope."""

ScopeList = Sequence[str] | Literal[_AnyValidToken.ANY_VALID_TOKEN]
"""What grants an action: any one of these scopes, or ``ANY_VALID_TOKEN``."""


def scope_tuple(value: ScopeList, owner: str, key: str) -> tuple[str, ...]:
    """``value`` as a checked tuple (empty for ``ANY_VALID_TOKEN``). An empty list grants
    nothing but would read as "any token", so it is refused."""
    if value is ANY_VALID_TOKEN:
        return ()
    if isinstance(value, str):
        raise ImproperlyConfigured(f"{owner}({key}={value!r}): give a list of scopes, e.g. [{value!r}].")
    scopes = tuple(value)
    if not scopes:
        raise ImproperlyConfigured(
            f"{owner}({key}=[]) grants nothing: leave {key} out to deny it, or write "
            f"{owner}({key}=ANY_VALID_TOKEN) (from djfapi.permissions) to let any valid token through."
        )
    for scope in scopes:
        AccessScope.from_str(scope)  # a typo fails at import, not at the first request
    return scopes


@dataclass(frozen=True)
class AccessScope:
    """A parsed scope: ``business.companies.read.own`` → service, resource, action, selector."""

    service: str
    resource: str
    action: str
    selector: str | None = None

    @classmethod
    def from_str(cls, scope: str) -> AccessScope:
        """Parse ``service.resource.action[.selector]``; ValueError for anything else."""
        parts = scope.split(".")
        if len(parts) not in (3, 4) or not all(parts):
            raise ValueError(f"{scope!r} is not a scope of the form service.resource.action[.selector]")
        return cls(*parts)

    def __str__(self) -> str:
        return ".".join(part for part in (self.service, self.resource, self.action, self.selector) if part)


class AccessToken(dict[str, Any]):
    """The token's claims; a dict that also reads claims as attributes (``token.sub``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Access:
    """The caller of one request, as the viewset sees it in ``self.access``."""

    token: AccessToken = field(repr=False)  # claims stay out of reprs, and so out of logs
    granted: frozenset[str] = frozenset()  # every scope the caller holds
    scopes: tuple[AccessScope, ...] = ()  # those the action accepts, in the action's order
    tenant_claim: str = field(default="ten", repr=False)

    @property
    def user_id(self) -> str | None:
        return self.token.get("sub")

    @property
    def tenant_id(self) -> str | None:
        return self.token.get(self.tenant_claim)

    @property
    def scope(self) -> AccessScope | None:
        """The first of the action's scopes, in declared order, that the caller holds."""
        return self.scopes[0] if self.scopes else None

    def has_scope(self, *scopes: str | AccessScope) -> bool:
        """Whether the caller holds at least one of ``scopes``."""
        return any(str(scope) in self.granted for scope in scopes)

    def for_action(self, accepted: Iterable[str]) -> Access:
        """This access with ``scopes`` set to those of ``accepted`` the caller holds."""
        held = tuple(AccessScope.from_str(scope) for scope in accepted if scope in self.granted)
        return dataclasses.replace(self, scopes=held)

    def with_granted(self, granted: Iterable[str]) -> Access:
        """This access holding ``granted`` instead (scopes looked up elsewhere, e.g. in Django)."""
        return dataclasses.replace(self, granted=frozenset(granted))


_METHOD_KEYS = {"list": ("list", "get"), "retrieve": ("get",), "create": ("post",),
                "update": ("put", "patch"), "partial_update": ("patch",), "destroy": ("delete",)}


class Scopes:
    """Which scopes grant which action; any one listed scope grants it.

    The keys of djfapi 0.0.x (``get`` also covers list unless ``list`` is given; ``put`` falls
    back to ``patch``) plus action names for finer control. An action nothing here names is
    denied.
    """

    def __init__(
        self,
        get: ScopeList | None = None,
        list: ScopeList | None = None,
        post: ScopeList | None = None,
        put: ScopeList | None = None,
        patch: ScopeList | None = None,
        delete: ScopeList | None = None,
        **actions: ScopeList,
    ) -> None:
        given = {"get": get, "list": list, "post": post, "put": put, "patch": patch, "delete": delete}
        # An empty tuple stands for ANY_VALID_TOKEN: a valid token, no particular scope.
        self.keys: Mapping[str, tuple[str, ...]] = {
            key: scope_tuple(value, "Scopes", key) for key, value in {**given, **actions}.items()
            if value is not None
        }

    def __repr__(self) -> str:
        shown = (f"{k}={list(v)!r}" if v else f"{k}=ANY_VALID_TOKEN" for k, v in self.keys.items())
        return f"Scopes({', '.join(shown)})"

    def for_action(self, action: str, *, methods: Sequence[str] = (), detail: bool = True,
                   declared: Sequence[str] | None = None) -> tuple[str, ...] | None:
        """The scopes that grant ``action``: None when nothing grants it, ``()`` when any valid
        token does.

        An ``@action`` without a key of its own uses ``declared`` (its ``scopes=``), else
        ``get`` when it only reads, else ``patch`` on a detail and ``post`` on a list route.
        """
        if action in self.keys:
            return self.keys[action]
        if action in _METHOD_KEYS:
            keys = _METHOD_KEYS[action]
        elif declared is not None:
            return tuple(declared)
        elif all(method in SAFE_METHODS for method in methods):
            keys = ("get",) if detail else ("list", "get")
        else:
            keys = ("patch",) if detail else ("post",)
        return next((self.keys[key] for key in keys if key in self.keys), None)

    def for_child(self) -> Scopes:
        """The scopes a nested viewset without its own inherits: reads need the parent's
        ``get``, writes the parent's ``patch``, as in djfapi 0.0.x."""
        def grant(scopes: tuple[str, ...] | None) -> ScopeList | None:
            return ANY_VALID_TOKEN if scopes == () else scopes

        read, write = grant(self.keys.get("get")), grant(self.keys.get("patch"))
        return Scopes(get=read, post=write, put=write, patch=write, delete=write)
